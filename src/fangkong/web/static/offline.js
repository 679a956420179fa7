/* The pages on a phone without a network (fangkong.web.workspace.sync):

   - registers the service worker (/sw.js), which keeps the day's list and the forms;
   - a form marked data-offline (a contact notified or not reached, a task done) submitted
     without a network becomes an entry kept in IndexedDB (offline-db.js) with its own id and
     the version of the record it was made against, shown as waiting in the page's
     #offline-queue; any other form says it needs the network;
   - when the network returns (and on each page shown online), the waiting entries of the
     signed-in user are sent one by one to POST /sync. Applied (or applied before): removed.
     The record changed on the server meanwhile: shown as a conflict, for the user to keep
     theirs (the entry is removed) or keep mine (sent again against the record as it is now).
     Refused by the rules: shown with the reason, to remove.
   Every word shown comes from the server's catalogue, in #offline-texts's data-texts. */
(function () {
  "use strict";
  var db = window.FangkongOfflineDB;
  var panel = document.getElementById("offline-queue");  // the pages with offline forms
  var words = document.getElementById("offline-texts");  // every signed-in page
  var texts = words ? JSON.parse(words.getAttribute("data-texts") || "{}") : {};
  var user = words ? words.getAttribute("data-user") : null;
  var FLASH = "fangkong-offline-flash";
  var sending = false;

  if ("serviceWorker" in navigator && words) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (reg) {
      if (!navigator.serviceWorker.controller && reg.active) {  // shown before it took over
        reg.active.postMessage({ type: "keep", url: location.pathname + location.search });
      }
    }).catch(function () {});
  }

  /* Signing out forgets the pages kept on the device (the entries waiting stay: they are
     sent when the same user signs in again). */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.getAttribute("action") !== "/logout" || !("caches" in window) ||
        !navigator.onLine) { return; }  // offline: signing out needs the network (below)
    if (form.getAttribute("data-forgotten")) { return; }
    event.preventDefault();
    form.setAttribute("data-forgotten", "1");
    caches.delete("fangkong-pages").then(function () { form.submit(); },
                                         function () { form.submit(); });
  }, true);

  function newId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) {
      return (x + 256).toString(16).slice(1);
    }).join("");
  }

  function fill(text, params) {
    return String(text || "").replace(/\{(\w+)\}/g, function (m, k) {
      return k in params ? params[k] : m;
    });
  }

  function say(message) {
    var out = document.getElementById("offline-status");
    if (out) { out.textContent = message; out.hidden = !message; }
  }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text) { e.textContent = text; }
    return e;
  }

  function mine(entries) {
    return entries.filter(function (e) { return e.user === user; })
      .sort(function (a, b) { return a.made_at < b.made_at ? -1 : 1; });
  }

  function banner() {
    var b = document.getElementById("offline-banner");
    if (b) { b.hidden = navigator.onLine; }
  }

  /* The waiting entries in the panel; the forms they came from shown as waiting. */
  function render() {
    if (!panel) { return Promise.resolve(); }
    return db.all().then(function (all) {
      var entries = mine(all);
      var list = panel.querySelector("ul");
      list.textContent = "";
      document.querySelectorAll("form[data-offline]").forEach(function (f) {
        mark(f, false);
      });
      entries.forEach(function (e) {
        var li = el("li", { id: "entry-" + e.entry, "class": "entry " + e.state,
                            "data-kind": e.kind, "data-target": String(e.target) });
        var tag = { pending: texts.pending, conflict: texts.conflict_tag,
                    refused: texts.refused_tag }[e.state] || texts.pending;
        li.appendChild(el("span", { "class": "tag" }, tag));
        li.appendChild(el("span", { "class": "what" }, " " + e.label));
        li.appendChild(el("span", { "class": "muted" },
                          " · " + fill(texts.made_at, { at: new Date(e.made_at)
                            .toLocaleString(document.documentElement.lang) })));
        if (e.message) { li.appendChild(el("p", { "class": "why" }, e.message)); }
        var actions = el("p", { "class": "actions" });
        if (e.state === "conflict") {
          actions.appendChild(button(texts.keep_mine, "keep-mine", function () {
            e.version = e.theirs_version;
            e.state = "pending";
            e.message = "";
            db.put(e).then(render).then(send);
          }));
          actions.appendChild(button(texts.keep_theirs, "keep-theirs secondary", function () {
            db.remove(e.entry).then(function () { flash(texts.kept_theirs); });
          }));
        } else if (e.state === "refused") {
          actions.appendChild(button(texts.discard, "discard secondary", function () {
            db.remove(e.entry).then(render);
          }));
        }
        if (actions.childNodes.length) { li.appendChild(actions); }
        list.appendChild(li);
        // every form about the same record waits with it (one entry per record)
        var record = e.kind.split(".")[0];
        document.querySelectorAll('form[data-offline^="' + record + '."][data-target="' +
                                  e.target + '"]').forEach(function (f) { mark(f, true); });
      });
      panel.hidden = entries.length === 0 &&
        !document.getElementById("offline-status").textContent;
      panel.querySelector("#offline-send").hidden = !entries.some(function (e) {
        return e.state === "pending";
      }) || !navigator.onLine;
      banner();
    });
  }

  /* A form whose entry waits on the device: its buttons off (one entry per record), a tag. */
  function mark(form, waiting) {
    form.classList.toggle("pending", waiting);
    form.querySelectorAll("button").forEach(function (b) { b.disabled = waiting; });
    var tag = form.querySelector(".pending-tag");
    if (waiting && !tag) {
      form.appendChild(el("span", { "class": "tag pending-tag" }, texts.pending));
    } else if (!waiting && tag) {
      tag.parentNode.removeChild(tag);
    }
  }

  function button(text, cls, onclick) {
    var b = el("button", { type: "button", "class": cls }, text);
    b.addEventListener("click", onclick);
    return b;
  }

  /* A message to show after the page is loaded again (with the records as they are now). */
  function flash(message) {
    try { sessionStorage.setItem(FLASH, message); } catch (e) { /* private mode */ }
    location.reload();
  }

  function post(entry) {
    var token = document.querySelector("meta[name=csrf-token]").getAttribute("content");
    return fetch("/sync", {
      method: "POST", credentials: "same-origin", redirect: "manual",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ entry: entry.entry, kind: entry.kind, target: entry.target,
                             version: entry.version, note: entry.note || "",
                             made_at: entry.made_at })
    });
  }

  /* Sends the waiting entries, oldest first; stops at the first that cannot reach the
     server (still waiting). */
  function send() {
    if (!panel || sending || !navigator.onLine) { return Promise.resolve(); }
    sending = true;
    var sent = 0;
    return db.all().then(function (all) {
      var waiting = mine(all).filter(function (e) { return e.state === "pending"; });
      return waiting.reduce(function (chain, e) {
        return chain.then(function (go) {
          if (!go) { return false; }
          var li = document.getElementById("entry-" + e.entry);
          if (li) { li.querySelector(".tag").textContent = texts.sending; }
          return post(e).then(function (r) {
            if (r.type === "opaqueredirect" || r.status === 401) {
              say(texts.sign_in);
              return false;
            }
            return r.json().then(function (body) {
              if (body.outcome === "applied" || body.outcome === "already") {
                sent += 1;
                return db.remove(e.entry).then(function () { return true; });
              }
              e.state = body.outcome === "conflict" ? "conflict" : "refused";
              e.message = body.message;
              e.theirs_version = body.version || null;
              return db.put(e).then(function () { return true; });
            }, function () { return false; });
          }, function () { return false; });  // no network after all: left waiting
        });
      }, Promise.resolve(true));
    }).then(function () {
      sending = false;
      if (sent) { flash(fill(texts.sent, { count: sent })); }
      return render();
    }, function () { sending = false; });
  }

  function keep(form) {
    var field = function (name) {
      var f = form.querySelector('[name="' + name + '"]');
      return f ? f.value : "";
    };
    var entry = { entry: newId(), user: user, kind: form.getAttribute("data-offline"),
                  target: parseInt(form.getAttribute("data-target"), 10),
                  version: field("version"), note: field("note"),
                  label: form.getAttribute("data-label") || "",
                  made_at: new Date().toISOString(), state: "pending" };
    return db.put(entry).then(function () {
      say(texts.queued);
      return render();
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (navigator.onLine || (form.getAttribute("method") || "").toLowerCase() !== "post") {
      return;
    }
    event.preventDefault();
    if (form.hasAttribute("data-offline") && panel && db) {
      keep(form).then(function () {
        var details = form.closest("details");
        if (details) { details.open = false; }
      });
    } else {
      var note = form.querySelector(".needs-network") ||
        form.appendChild(el("span", { "class": "needs-network", role: "status" }));
      note.textContent = texts.needs_network || "";
    }
  });

  window.addEventListener("online", function () { render().then(send); });
  window.addEventListener("offline", function () { render(); });
  var sendNow = document.getElementById("offline-send");
  if (sendNow) { sendNow.addEventListener("click", function () { send(); }); }

  var message = null;
  try {
    message = sessionStorage.getItem(FLASH);
    sessionStorage.removeItem(FLASH);
  } catch (e) { /* private mode */ }
  if (message) { say(message); }
  render().then(send);
}());
