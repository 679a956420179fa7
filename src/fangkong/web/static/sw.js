/* Fangkong's service worker, served as /sw.js (scope: every page) by
   fangkong.web.workspace.sync, which fills in the release and the static files to keep.

   - The static files are kept on install (and any other as it is fetched) and served from
     the cache (a new release, a new cache: the old one is deleted when this worker takes
     over).
   - The pages a worker uses in the field (the community's day list, the epidemiologist's
     forms and a case's contacts) are fetched from the network first and kept; without a
     network the copy kept is shown. Other pages, and every request that is not a GET (a form
     posted, an entry sent by offline.js), are left to the network untouched.
   - Signing out deletes the pages kept (offline.js asks for it before the form is sent). */
"use strict";

var RELEASE = "__RELEASE__";
var PRECACHE = __PRECACHE__;
var STATIC_CACHE = "fangkong-static-" + RELEASE;
var PAGES_CACHE = "fangkong-pages";
var KEPT = [/^\/community$/, /^\/report$/, /^\/report\/case$/, /^\/cases\/\d+\/contacts$/,
            /^\/search$/];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(STATIC_CACHE).then(function (cache) {
    return cache.addAll(PRECACHE);
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) {
      return n.indexOf("fangkong-static-") === 0 && n !== STATIC_CACHE;
    }).map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

function kept(url) {
  return KEPT.some(function (re) { return re.test(url.pathname); });
}

/* Keeps a page that came whole (not a redirect to the sign-in page, not an error). */
function store(request, response) {
  if (response.ok && response.type === "basic" && !response.redirected &&
      (response.headers.get("content-type") || "").indexOf("text/html") === 0) {
    var copy = response.clone();
    return caches.open(PAGES_CACHE).then(function (cache) { return cache.put(request, copy); });
  }
  return Promise.resolve();
}

/* Without a network: the copy kept of the page; for the start page ("/", which sends each
   role to its own page), the day's list or the case report form, whichever was kept. */
function fromCache(request, url) {
  return caches.open(PAGES_CACHE).then(function (cache) {
    return cache.match(request, { ignoreVary: true }).then(function (hit) {
      if (hit || url.pathname !== "/") { return hit || Response.error(); }
      return cache.match("/community").then(function (c) {
        return c || cache.match("/report");
      }).then(function (c) { return c || Response.error(); });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.match(request).then(function (hit) {
      return hit || fetch(request).then(function (response) {
        if (response.ok && response.type === "basic") {
          var copy = response.clone();
          event.waitUntil(caches.open(STATIC_CACHE).then(function (c) {
            return c.put(request, copy);
          }));
        }
        return response;
      });
    }));
    return;
  }
  if (request.mode === "navigate" && (kept(url) || url.pathname === "/")) {
    event.respondWith(fetch(request).then(function (response) {
      if (kept(url)) { event.waitUntil(store(request, response)); }
      return response;
    }, function () { return fromCache(request, url); }));
  }
});

/* offline.js: "keep" the page just opened (the first one, shown before this worker took
   over), "forget" the pages kept (signing out). */
self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "keep" && typeof data.url === "string") {
    var url = new URL(data.url, self.location.origin);
    if (url.origin === self.location.origin && kept(url)) {
      var request = new Request(url.href, { credentials: "same-origin" });
      event.waitUntil(fetch(request).then(function (r) { return store(request, r); },
                                          function () {}));
    }
  } else if (data.type === "forget") {
    event.waitUntil(caches.delete(PAGES_CACHE));
  }
});
