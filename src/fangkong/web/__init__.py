"""The command dashboard (指挥大屏): server-rendered pages over the same services as the API."""

from fangkong.registry import Contribution

CONTRIBUTES = Contribution(
    mounts=("fangkong.web.pages:install",  # the pages, after the API's error handlers
            "fangkong.web.workspace:install",  # the workspace's forms
            "fangkong.web.command:install"),  # the overview and the commander's pages
)
