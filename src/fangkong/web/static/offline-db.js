/* The entries made without a network, kept on the device in IndexedDB (database
   "fangkong-offline", store "entries", keyed by the entry's own id) until they are sent.
   A few promise-returning functions over the browser's IndexedDB: all, put, remove. */
(function () {
  "use strict";
  var NAME = "fangkong-offline";
  var STORE = "entries";
  var opened = null;

  function open() {
    if (!opened) {
      opened = new Promise(function (resolve, reject) {
        var req = indexedDB.open(NAME, 1);
        req.onupgradeneeded = function () {
          req.result.createObjectStore(STORE, { keyPath: "entry" });
        };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return opened;
  }

  /* Runs ``work(store)`` in one transaction; resolves with its request's result once the
     transaction has committed (so a put is on disk before the page says "kept"). */
  function run(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var req = work(tx.objectStore(STORE));
        tx.oncomplete = function () { resolve(req ? req.result : undefined); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  window.FangkongOfflineDB = {
    all: function () { return run("readonly", function (s) { return s.getAll(); }); },
    put: function (entry) { return run("readwrite", function (s) { return s.put(entry); }); },
    remove: function (id) { return run("readwrite", function (s) { return s.delete(id); }); }
  };
}());
