/* motcua — resumable uploads for the citizens' portal (tus 1.0.0 client, hand-written, no deps).
 *
 * Markup: a container [data-tus-endpoint] (data-draft, data-csrf, data-max-bytes,
 * data-chunk-bytes) holding one fieldset.slot[data-slot] per paper, each with a hidden
 * [data-uploader] block (file input, <progress>, status, error). Texts come from the JSON in
 * #upload-texts (translated by Django).
 *
 * For each chosen file: check type and size here (the server checks again, by content);
 * compute the SHA-256 of the whole file (declared in Upload-Metadata, checked by the server
 * at the end); create the upload (POST); send it in chunks (PATCH, default 1 MB) each with
 * "Upload-Checksum: sha256 <base64>". A failed chunk is retried with growing pauses (1 s … 30 s),
 * after asking the server where it stands (HEAD); offline, it waits for the network. The upload
 * URL is kept in localStorage under the file's fingerprint, so after a reload choosing the same
 * file resumes where the server stopped.
 *
 * SHA-256: SubtleCrypto when the page is a secure context (https, or localhost); otherwise
 * the small implementation below (same results, slower), so checksums are always sent.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-tus-endpoint]");
  if (!root || !window.XMLHttpRequest || !window.Blob || !Blob.prototype.slice) return;

  var TUS = "1.0.0";
  var endpoint = root.getAttribute("data-tus-endpoint");
  var draft = root.getAttribute("data-draft");
  var csrf = root.getAttribute("data-csrf");
  var maxBytes = parseInt(root.getAttribute("data-max-bytes"), 10) || 20 * 1024 * 1024;
  var chunkBytes = parseInt(root.getAttribute("data-chunk-bytes"), 10) || 1024 * 1024;
  var DELAYS = [1000, 2000, 4000, 8000, 15000, 30000];
  var ALLOWED = { pdf: 1, jpg: 1, jpeg: 1, png: 1 };
  var STORE = "motcua-upload:";
  var texts = {};
  try { texts = JSON.parse(document.getElementById("upload-texts").textContent); } catch (e) { /* defaults below */ }
  var active = 0;

  function t(key, values) {
    var text = texts[key] || key;
    return text.replace(/\{(\w+)\}/g, function (all, name) {
      return values && values[name] !== undefined ? String(values[name]) : all;
    });
  }

  // --- SHA-256 -------------------------------------------------------------------------------

  var subtle = window.isSecureContext && window.crypto && window.crypto.subtle;

  // ToInt32 wraps the constants above 2^31, as the 32-bit arithmetic below expects.
  var K = new Int32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
  ]);

  function Sha256() {
    this.h = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                             0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    this.block = new Uint8Array(64);
    this.used = 0;
    this.bytes = 0;
    this.w = new Int32Array(64);
  }
  Sha256.prototype.compress = function (b) {
    var w = this.w, h = this.h, i, s0, s1, t1, t2;
    for (i = 0; i < 16; i++) {
      w[i] = (b[i * 4] << 24) | (b[i * 4 + 1] << 16) | (b[i * 4 + 2] << 8) | b[i * 4 + 3];
    }
    for (i = 16; i < 64; i++) {
      s0 = ((w[i - 15] >>> 7) | (w[i - 15] << 25)) ^ ((w[i - 15] >>> 18) | (w[i - 15] << 14)) ^ (w[i - 15] >>> 3);
      s1 = ((w[i - 2] >>> 17) | (w[i - 2] << 15)) ^ ((w[i - 2] >>> 19) | (w[i - 2] << 13)) ^ (w[i - 2] >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    var a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (i = 0; i < 64; i++) {
      s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      t1 = (hh + s1 + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
      s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      t2 = (s0 + ((a & bb) ^ (a & c) ^ (bb & c))) | 0;
      hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = bb; bb = a; a = (t1 + t2) | 0;
    }
    h[0] = (h[0] + a) | 0; h[1] = (h[1] + bb) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
    h[4] = (h[4] + e) | 0; h[5] = (h[5] + f) | 0; h[6] = (h[6] + g) | 0; h[7] = (h[7] + hh) | 0;
  };
  Sha256.prototype.update = function (data) {
    var i = 0, n = data.length;
    this.bytes += n;
    if (this.used) {
      while (i < n && this.used < 64) this.block[this.used++] = data[i++];
      if (this.used < 64) return this;
      this.compress(this.block);
      this.used = 0;
    }
    for (; i + 64 <= n; i += 64) this.compress(data.subarray(i, i + 64));
    while (i < n) this.block[this.used++] = data[i++];
    return this;
  };
  Sha256.prototype.digest = function () {
    var bits = this.bytes * 8, tail = new Uint8Array(this.used < 56 ? 64 - this.used : 128 - this.used), i;
    tail[0] = 0x80;
    var high = Math.floor(bits / 0x100000000), low = bits >>> 0;
    for (i = 0; i < 4; i++) {
      tail[tail.length - 8 + i] = (high >>> (24 - 8 * i)) & 0xff;
      tail[tail.length - 4 + i] = (low >>> (24 - 8 * i)) & 0xff;
    }
    this.update(tail);
    var out = new Uint8Array(32);
    for (i = 0; i < 8; i++) {
      out[i * 4] = (this.h[i] >>> 24) & 0xff; out[i * 4 + 1] = (this.h[i] >>> 16) & 0xff;
      out[i * 4 + 2] = (this.h[i] >>> 8) & 0xff; out[i * 4 + 3] = this.h[i] & 0xff;
    }
    return out;
  };
  window.motcuaSha256 = function (bytes) { return new Sha256().update(bytes).digest(); };
  window.motcuaSha256.Hasher = Sha256;

  function hex(bytes) {
    var out = "";
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return out;
  }
  function base64(bytes) {
    var text = "";
    for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return window.btoa(text);
  }
  function b64text(value) { return base64(new TextEncoder().encode(value)); }

  function read(blob) {
    if (blob.arrayBuffer) return blob.arrayBuffer();
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(reader.result); };
      reader.onerror = function () { reject(reader.error); };
      reader.readAsArrayBuffer(blob);
    });
  }

  function digest(buffer) {
    if (subtle) {
      return subtle.digest("SHA-256", buffer).then(function (d) { return new Uint8Array(d); });
    }
    return Promise.resolve(new Sha256().update(new Uint8Array(buffer)).digest());
  }

  function fileDigest(file) {
    if (subtle) return read(file).then(digest);
    var hash = new Sha256(), offset = 0;
    function next() {
      if (offset >= file.size) return Promise.resolve(hash.digest());
      var end = Math.min(file.size, offset + 4 * 1024 * 1024);
      return read(file.slice(offset, end)).then(function (part) {
        hash.update(new Uint8Array(part));
        offset = end;
        return next();
      });
    }
    return next();
  }

  // --- HTTP ----------------------------------------------------------------------------------

  function request(method, url, headers, body, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url, true);
      xhr.setRequestHeader("Tus-Resumable", TUS);
      xhr.setRequestHeader("X-CSRFToken", csrf);
      Object.keys(headers || {}).forEach(function (name) { xhr.setRequestHeader(name, headers[name]); });
      if (onProgress && xhr.upload) {
        xhr.upload.onprogress = function (event) { if (event.lengthComputable) onProgress(event.loaded); };
      }
      xhr.onload = function () { resolve(xhr); };
      xhr.onerror = function () { reject(new Error("network")); };
      xhr.ontimeout = function () { reject(new Error("timeout")); };
      xhr.onabort = function () { reject(new Error("abort")); };
      xhr.timeout = 120000;
      xhr.send(body === undefined ? null : body);
    });
  }

  function problem(xhr) {
    try {
      var body = JSON.parse(xhr.responseText);
      return { code: body.code || "", message: body.message || "" };
    } catch (e) {
      return { code: "", message: xhr.status + " " + (xhr.statusText || "") };
    }
  }

  function wait(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function online() {
    if (navigator.onLine !== false) return Promise.resolve();
    return new Promise(function (resolve) {
      window.addEventListener("online", function handler() {
        window.removeEventListener("online", handler);
        resolve();
      });
    });
  }

  // --- one slot ------------------------------------------------------------------------------

  function fingerprint(slot, file) {
    return STORE + [draft, slot, file.name, file.size, file.lastModified || 0].join(":");
  }

  function Upload(slotEl, file) {
    this.slotEl = slotEl;
    this.slot = slotEl.getAttribute("data-slot");
    this.file = file;
    this.key = fingerprint(this.slot, file);
    this.progress = slotEl.querySelector(".upload-progress");
    this.bar = this.progress.querySelector("progress");
    this.status = this.progress.querySelector(".upload-status");
    this.error = slotEl.querySelector(".upload-error");
    this.lastPct = -1;
  }

  Upload.prototype.say = function (text) {
    this.progress.hidden = false;
    this.status.textContent = text;
  };

  Upload.prototype.show = function (offset, force) {
    var pct = this.file.size ? Math.floor((offset / this.file.size) * 100) : 100;
    this.bar.value = pct;
    this.bar.setAttribute("aria-valuetext", pct + "%");
    // Tell screen readers every 10 %, not every byte.
    if (force || Math.floor(pct / 10) !== Math.floor(this.lastPct / 10)) {
      this.say(t("uploading", { name: this.file.name, pct: pct }));
    }
    this.lastPct = pct;
  };

  Upload.prototype.fail = function (message) {
    this.error.hidden = false;
    this.error.textContent = t("failed", { name: this.file.name, msg: message });
    this.progress.hidden = true;
  };

  Upload.prototype.check = function () {
    var name = this.file.name || "";
    var ext = name.indexOf(".") >= 0 ? name.split(".").pop().toLowerCase() : "";
    if (!ALLOWED[ext]) return t("bad_type", { name: name });
    if (this.file.size === 0) return t("empty", { name: name });
    if (this.file.size > maxBytes) return t("too_big", { name: name, mb: Math.floor(maxBytes / 1048576) });
    return null;
  };

  Upload.prototype.offsetAt = function (url) {
    return request("HEAD", url, {}).then(function (xhr) {
      if (xhr.status === 200) return parseInt(xhr.getResponseHeader("Upload-Offset"), 10);
      return null;
    });
  };

  Upload.prototype.create = function () {
    var self = this;
    self.say(t("checking", { name: self.file.name }));
    return fileDigest(self.file).then(function (sum) {
      var metadata = [
        "filename " + b64text(self.file.name),
        "filetype " + b64text(self.file.type || ""),
        "draft " + b64text(draft),
        "slot " + b64text(self.slot),
        "sha256 " + b64text(hex(sum))
      ].join(",");
      var headers = { "Upload-Length": String(self.file.size), "Upload-Metadata": metadata };
      return self.persist(function () { return request("POST", endpoint, headers); }, 0);
    }).then(function (xhr) {
      if (xhr.status !== 201) throw { fatal: problem(xhr).message };
      self.url = xhr.getResponseHeader("Location");
      try { localStorage.setItem(self.key, JSON.stringify({ url: self.url, name: self.file.name, size: self.file.size, offset: 0 })); } catch (e) { /* private mode */ }
      return 0;
    });
  };

  // A request that may be repeated safely: again after a network error or a server error.
  Upload.prototype.persist = function (send, attempt) {
    var self = this;
    return online().then(send).then(function (xhr) {
      if (xhr.status >= 500 && attempt < DELAYS.length) {
        return wait(DELAYS[attempt]).then(function () { return self.persist(send, attempt + 1); });
      }
      return xhr;
    }, function () {
      if (attempt >= DELAYS.length) throw { fatal: t("gave_up", { name: self.file.name }) };
      self.say(t("retrying", { name: self.file.name, s: Math.round(DELAYS[attempt] / 1000) }));
      return wait(DELAYS[attempt]).then(function () { return self.persist(send, attempt + 1); });
    });
  };

  Upload.prototype.remember = function (offset) {
    try {
      localStorage.setItem(this.key, JSON.stringify({ url: this.url, name: this.file.name, size: this.file.size, offset: offset }));
    } catch (e) { /* private mode: resume within this page only */ }
  };

  Upload.prototype.forget = function () {
    try { localStorage.removeItem(this.key); } catch (e) { /* ignore */ }
  };

  Upload.prototype.start = function () {
    var self = this;
    var invalid = self.check();
    if (invalid) {
      self.error.hidden = false;
      self.error.textContent = invalid;
      return Promise.resolve(false);
    }
    self.error.hidden = true;
    var saved = null;
    try { saved = JSON.parse(localStorage.getItem(self.key) || "null"); } catch (e) { saved = null; }
    var begin = Promise.resolve(null);
    if (saved && saved.url) {
      self.url = saved.url;
      begin = self.offsetAt(saved.url).catch(function () { return null; });
    }
    return begin.then(function (offset) {
      if (offset === null || isNaN(offset)) {
        self.forget();
        return self.create();
      }
      self.say(t("resuming", { name: self.file.name, pct: Math.floor((offset / self.file.size) * 100) }));
      return offset;
    }).then(function (offset) {
      return self.send(offset, 0);
    }).then(function (ok) {
      return ok;
    }, function (error) {
      var message = error && error.fatal ? error.fatal : t("network");
      self.fail(message);
      return false;
    });
  };

  Upload.prototype.send = function (offset, attempt) {
    var self = this;
    if (offset >= self.file.size) return self.finished();
    var end = Math.min(self.file.size, offset + chunkBytes);
    var body;
    return online().then(function () {
      return read(self.file.slice(offset, end));
    }).then(function (buffer) {
      body = buffer;
      return digest(buffer);
    }).then(function (sum) {
      self.show(offset, attempt > 0);
      return request("PATCH", self.url, {
        "Content-Type": "application/offset+octet-stream",
        "Upload-Offset": String(offset),
        "Upload-Checksum": "sha256 " + base64(sum)
      }, body, function (loaded) { self.show(offset + loaded); });
    }).then(function (xhr) {
      if (xhr.status === 204) {
        var next = parseInt(xhr.getResponseHeader("Upload-Offset"), 10);
        self.remember(next);
        if (next >= self.file.size) return self.finished();
        return self.send(next, 0);
      }
      var info = problem(xhr);
      if (xhr.status === 409 || xhr.status === 423 || (xhr.status === 460 && info.code === "checksum_mismatch") || xhr.status >= 500) {
        return self.retry(attempt);  // the server says where it stands; try again from there
      }
      self.forget();
      throw { fatal: info.message };
    }, function () {
      return self.retry(attempt);
    });
  };

  Upload.prototype.retry = function (attempt) {
    var self = this;
    if (attempt >= DELAYS.length) {
      throw { fatal: t("gave_up", { name: self.file.name }) };
    }
    var delay = DELAYS[attempt];
    if (navigator.onLine === false) self.say(t("offline", { name: self.file.name }));
    else self.say(t("retrying", { name: self.file.name, s: Math.round(delay / 1000) }));
    return wait(delay).then(online).then(function () {
      return self.offsetAt(self.url);
    }).then(function (offset) {
      if (offset === null || isNaN(offset)) {
        // Gone (expired, refused): start again from nothing once.
        self.forget();
        throw { fatal: t("gave_up", { name: self.file.name }) };
      }
      return self.send(offset, attempt + 1);
    }, function () {
      return self.retry(attempt + 1);
    });
  };

  Upload.prototype.finished = function () {
    this.forget();
    this.bar.value = 100;
    this.say(t("done", { name: this.file.name }));
    var list = this.slotEl.querySelector(".slot-files");
    var id = this.url.replace(/\/+$/, "").split("/").pop();
    var stale = list.querySelector('[data-upload="' + id + '"]');  // listed as half-way
    if (stale) stale.parentNode.removeChild(stale);
    var item = document.createElement("li");
    item.setAttribute("data-upload", id);
    var name = document.createElement("span");
    name.className = "file-name";
    name.textContent = this.file.name;
    var size = document.createElement("span");
    size.className = "muted";
    size.textContent = "(" + (this.file.size >= 1048576 ? (this.file.size / 1048576).toFixed(1).replace(".", ",") + " MB" : Math.max(1, Math.round(this.file.size / 1024)) + " KB") + ")";
    var remove = document.createElement("button");
    remove.type = "submit";
    remove.className = "link-button";
    remove.name = "remove";
    remove.value = id;
    remove.formNoValidate = true;
    remove.textContent = t("remove");
    var hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = " " + this.file.name;
    remove.appendChild(hidden);
    item.appendChild(name);
    item.appendChild(document.createTextNode(" "));
    item.appendChild(size);
    item.appendChild(document.createTextNode(" "));
    item.appendChild(remove);
    list.appendChild(item);
    return true;
  };

  // --- wiring --------------------------------------------------------------------------------

  function pendingNotice(slotEl) {
    var slot = slotEl.getAttribute("data-slot"), prefix = STORE + draft + ":" + slot + ":";
    var notice = slotEl.querySelector(".upload-resume"), lines = [];
    try {
      for (var i = 0; i < localStorage.length; i++) {
        var key = localStorage.key(i);
        if (key && key.indexOf(prefix) === 0) {
          var saved = JSON.parse(localStorage.getItem(key) || "{}");
          var pct = saved.size ? Math.floor(((saved.offset || 0) / saved.size) * 100) : 0;
          lines.push(t("pending", { name: saved.name, pct: pct }));
        }
      }
    } catch (e) { /* no storage */ }
    if (lines.length) {
      notice.textContent = lines.join(" ");
      notice.hidden = false;
    }
  }

  function queue(slotEl, files) {
    var list = Array.prototype.slice.call(files);
    var chain = Promise.resolve();
    list.forEach(function (file) {
      chain = chain.then(function () {
        active += 1;
        var upload = new Upload(slotEl, file);
        return upload.start().then(function () { active -= 1; }, function () { active -= 1; });
      });
    });
    return chain;
  }

  Array.prototype.forEach.call(root.querySelectorAll("[data-slot]"), function (slotEl) {
    var block = slotEl.querySelector("[data-uploader]");
    if (!block) return;
    block.hidden = false;
    var input = block.querySelector("input[type=file]");
    input.addEventListener("change", function () {
      var files = input.files;
      if (!files || !files.length) return;
      var copy = Array.prototype.slice.call(files);
      input.value = "";
      slotEl.querySelector(".upload-resume").hidden = true;
      queue(slotEl, copy);
    });
    pendingNotice(slotEl);
  });

  var form = root.closest("form");
  if (form) {
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (active > 0 && submitter && submitter.value === "submit") {
        event.preventDefault();
        var error = document.getElementById("upload-busy");
        if (!error) {
          error = document.createElement("p");
          error.id = "upload-busy";
          error.className = "notice notice-error";
          error.setAttribute("role", "alert");
          submitter.parentNode.insertBefore(error, submitter.parentNode.firstChild);
        }
        error.textContent = t("busy");
      }
    });
  }
  root.setAttribute("data-ready", "true");
})();
