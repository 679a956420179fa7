"""Tracing (流调溯源): exposures, contacts, venue check-ins, the co-presence (时空伴随) engine."""

from fangkong.registry import Command, Contribution, Listener, Packed

CONTRIBUTES = Contribution(
    routers=("fangkong.tracing.api:router",),
    commands=(Command("tracing", "fangkong.tracing.cli:app",
                      "Tracing (流调溯源): co-presence, check-ins, contacts."),),
    listeners=(
        Listener("case.reported", "fangkong.tracing.proposals:on_case_reported"),
        Listener("transfer.arrived", "fangkong.tracing.status:on_transfer_arrived"),
    ),
    session_listeners=("fangkong.tracing.graph_hook",),  # the graph notes changed cases
    packed=(Packed("exposure", "fangkong.tracing.models:Exposure"),
            Packed("contact", "fangkong.tracing.models:ContactEpisode", pack="pack"),
            Packed("interview", "fangkong.tracing.models:Interview")),
    sections=("fangkong.web.tracing",),  # its dashboard sections (the web layer draws them)
)
