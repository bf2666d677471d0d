/* motcua — counter intake (Tiếp nhận hồ sơ). Plain JavaScript, no build step.
 *
 * The page works without it (server-rendered forms, GET search, multipart files); this adds
 * what a busy desk needs: the procedure combobox (↑ ↓ Enter Esc), focus moved to the next
 * section after each choice, Alt+letter shortcuts, drag-and-drop scans uploaded at once with
 * a progress bar (XMLHttpRequest) into the server's staging area, and a submit that cannot be
 * sent twice. The server stays the judge of everything (validation, idempotency).
 */
(function () {
  "use strict";

  var form = document.getElementById("intake-form");
  var dirty = false;
  var submitting = false;

  function byId(id) { return document.getElementById(id); }

  function focusElement(el) {
    if (!el) return false;
    if (!el.hasAttribute("tabindex") && !/^(INPUT|SELECT|TEXTAREA|BUTTON|A|SUMMARY)$/.test(el.tagName)) {
      el.setAttribute("tabindex", "-1");
    }
    el.focus();
    if (el.scrollIntoView) el.scrollIntoView({ block: "nearest" });
    return document.activeElement === el;
  }

  function visible(el) {
    return !!(el && (el.offsetWidth || el.offsetHeight || el.getClientRects().length));
  }

  /* --- shortcuts ------------------------------------------------------------------------ */

  function firstComponentInput() {
    return document.querySelector("#listed-components input[type=checkbox]") ||
      document.querySelector("#section-variant input[type=radio]");
  }

  function applicantIdInput() {
    var candidates = document.querySelectorAll("#applicant-block .lookup-field input");
    for (var i = 0; i < candidates.length; i++) {
      if (visible(candidates[i])) return candidates[i];
    }
    return candidates[0];
  }

  document.addEventListener("keydown", function (event) {
    if (!event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    var target = null;
    switch (event.code) {
      case "KeyN":
        event.preventDefault();
        if (form && dirty && !window.confirm(form.dataset.msgDiscard)) return;
        submitting = true;
        window.location.href = (byId("new-dossier") || {}).href || window.location.pathname;
        return;
      case "KeyT": target = byId("procedure-search"); break;
      case "KeyG": target = firstComponentInput() || byId("section-procedure"); break;
      case "KeyP": target = applicantIdInput(); break;
      case "KeyK": target = byId("do-receive"); break;
      default: return;
    }
    if (target) {
      event.preventDefault();
      focusElement(target);
    }
  });

  // The result page: the heading takes the focus so screen readers read the outcome.
  if (!form) {
    focusElement(byId("done-heading"));
    return;
  }

  form.addEventListener("input", function () { dirty = true; });
  form.addEventListener("change", function () { dirty = true; });

  var summary = byId("error-summary");
  if (summary) focusElement(summary);

  /* --- the procedure combobox ----------------------------------------------------------- */

  var search = byId("procedure-search");
  var results = byId("procedure-results");
  var active = -1;
  var chooseWhenLoaded = false;
  var caseFocus = null; // what to focus once #intake-case is swapped: "procedure" | "variant" | "arrow"

  function options() {
    return results ? results.querySelectorAll("[role=option]") : [];
  }

  function setActive(index) {
    var list = options();
    if (!list.length) { active = -1; search.removeAttribute("aria-activedescendant"); return; }
    active = (index + list.length) % list.length;
    for (var i = 0; i < list.length; i++) {
      list[i].setAttribute("aria-selected", i === active ? "true" : "false");
    }
    search.setAttribute("aria-activedescendant", list[active].id);
    list[active].scrollIntoView({ block: "nearest" });
  }

  function closeResults() {
    results.innerHTML = "";
    active = -1;
    search.setAttribute("aria-expanded", "false");
    search.removeAttribute("aria-activedescendant");
  }

  function choose(option) {
    if (!option || !window.htmx) return;
    search.value = option.dataset.label || option.dataset.code;
    closeResults();
    caseFocus = "procedure";
    window.htmx.ajax("GET", option.dataset.url, { target: "#intake-case", swap: "outerHTML" });
  }

  if (search && results) {
    search.addEventListener("keydown", function (event) {
      var list = options();
      if (event.key === "ArrowDown") {
        event.preventDefault();
        setActive(active + 1);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        setActive(active < 0 ? -1 : active - 1);
      } else if (event.key === "Enter") {
        if (!window.htmx) return; // the GET form does the search
        event.preventDefault();
        if (list.length) {
          choose(list[active >= 0 ? active : 0]);
        } else if (search.value.trim()) {
          chooseWhenLoaded = true;
          window.htmx.trigger(search, "search");
        }
      } else if (event.key === "Escape") {
        if (list.length) { event.preventDefault(); closeResults(); }
      }
    });
    results.addEventListener("click", function (event) {
      var option = event.target.closest("[role=option]");
      if (option) choose(option);
    });
    results.addEventListener("mousemove", function (event) {
      var option = event.target.closest("[role=option]");
      if (!option) return;
      var list = options();
      for (var i = 0; i < list.length; i++) if (list[i] === option && i !== active) setActive(i);
    });
  }

  /* --- variants: arrows move the selection without leaving the group --------------------- */

  document.addEventListener("keydown", function (event) {
    if (!event.target.matches || !event.target.matches("#section-variant input[type=radio]")) return;
    if (/^Arrow/.test(event.key)) caseFocus = "arrow";
    if (event.key === "Enter") {
      event.preventDefault();
      var next = document.querySelector("#listed-components input[type=checkbox]");
      if (next && event.target.checked) focusElement(next);
      else { caseFocus = "variant"; event.target.click(); }
    }
  });
  document.addEventListener("click", function (event) {
    if (event.target.matches && event.target.matches("#section-variant input[type=radio]") && caseFocus !== "arrow") {
      caseFocus = "variant";
    }
  });

  function afterCase() {
    var how = caseFocus;
    caseFocus = null;
    var checked = document.querySelector("#section-variant input[type=radio]:checked");
    var firstRadio = document.querySelector("#section-variant input[type=radio]");
    var firstBox = document.querySelector("#listed-components input[type=checkbox]");
    if (how === "arrow" && checked) { focusElement(checked); return; }
    if (how === null) return;
    if (!checked && firstRadio) { focusElement(firstRadio); return; }
    focusElement(firstBox || byId("section-components") || checked);
  }

  /* --- what is missing -------------------------------------------------------------------- */

  function updateMissing() {
    var out = byId("missing-summary");
    var rows = document.querySelectorAll("#listed-components .component[data-required='1']");
    if (!out || !rows.length && !document.querySelector("#listed-components")) return;
    var missing = 0;
    for (var i = 0; i < rows.length; i++) {
      var box = rows[i].querySelector("input[type=checkbox]");
      if (box && !box.checked) missing++;
    }
    out.classList.remove("is-idle");
    out.classList.toggle("is-missing", missing > 0);
    out.textContent = missing
      ? form.dataset.msgMissing.replace("%(n)s", String(missing))
      : form.dataset.msgMissingNone;
  }

  form.addEventListener("change", function (event) {
    if (event.target.matches("#listed-components input[type=checkbox]")) updateMissing();
  });

  /* --- htmx swaps ------------------------------------------------------------------------ */

  // The applicant block is replaced by the lookup's answer. Whatever was typed while the
  // lookup ran is kept (the server fills only empty fields), and so is the focus.
  var blockSnapshot = null;
  var TYPED = "input[type=text], input[type=email], input:not([type])";

  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || (target.id !== "applicant-block" && target.id !== "owner-block")) return;
    var values = {};
    var inputs = target.querySelectorAll(TYPED);
    for (var i = 0; i < inputs.length; i++) values[inputs[i].name] = inputs[i].value;
    var current = document.activeElement;
    blockSnapshot = {
      id: target.id,
      values: values,
      focus: current && target.contains(current) && !current.closest(".lookup-field") ? current.id : null
    };
  });

  document.body.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!blockSnapshot || !target || target.id !== blockSnapshot.id) return;
    var snap = blockSnapshot;
    blockSnapshot = null;
    var block = byId(snap.id);
    if (!block) return;
    var inputs = block.querySelectorAll(TYPED);
    for (var i = 0; i < inputs.length; i++) {
      var before = snap.values[inputs[i].name];
      if (before && !inputs[i].value) inputs[i].value = before;
    }
    var wanted = (snap.focus && byId(snap.focus)) || (block.dataset.focus && byId(block.dataset.focus));
    if (wanted) {
      focusElement(wanted);
      if (wanted.setSelectionRange && wanted.value) {
        try { wanted.setSelectionRange(wanted.value.length, wanted.value.length); } catch (e) { /* email inputs */ }
      }
    }
  });

  document.body.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.target;
    var id = target && target.id;
    if (id === "procedure-results") {
      active = -1;
      search.setAttribute("aria-expanded", options().length ? "true" : "false");
      search.removeAttribute("aria-activedescendant");
      if (chooseWhenLoaded) {
        chooseWhenLoaded = false;
        if (options().length) choose(options()[0]);
      }
    } else if (id === "intake-case") {
      afterCase();
      updateMissing();
    }
  });

  /* --- scans: drag and drop, uploaded at once with a progress bar ----------------------- */

  var maxBytes = parseInt(form.dataset.maxBytes, 10) || 0;
  var pending = 0;

  function csrfToken() {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function showError(zone, message) {
    var out = zone.querySelector(".upload-error");
    out.textContent = message;
  }

  function addFile(zone, file) {
    var list = zone.querySelector(".files");
    var item = document.createElement("li");
    item.dataset.file = file.id;
    var name = document.createElement("span");
    name.className = "file-name";
    name.textContent = file.name;
    var size = document.createElement("span");
    size.className = "muted small";
    size.textContent = " (" + file.size_label + ")";
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = zone.dataset.prefix + "-files";
    hidden.value = file.id;
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "button-link remove-file";
    remove.textContent = form.dataset.msgRemove + " ";
    var hiddenName = document.createElement("span");
    hiddenName.className = "visually-hidden";
    hiddenName.textContent = file.name;
    remove.appendChild(hiddenName);
    item.append(name, size, hidden, " ", remove);
    list.appendChild(item);
    var box = zone.closest(".component").querySelector("input[type=checkbox][name$='-received']");
    if (box && !box.checked) {
      box.checked = true;
      updateMissing();
    }
    dirty = true;
  }

  function upload(zone, file) {
    if (maxBytes && file.size > maxBytes) {
      showError(zone, "«" + file.name + "»: " + form.dataset.msgTooBig);
      return;
    }
    var bar = zone.querySelector(".upload-progress");
    var data = new FormData();
    data.append("token", form.querySelector("input[name=token]").value);
    data.append("file", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.stageUrl);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    zone.dataset.pending = String((parseInt(zone.dataset.pending, 10) || 0) + 1);
    pending++;
    bar.hidden = false;
    bar.value = 0;
    zone.classList.add("is-uploading");
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) bar.value = Math.round((event.loaded * 100) / event.total);
    });
    function finish() {
      pending--;
      var left = (parseInt(zone.dataset.pending, 10) || 1) - 1;
      zone.dataset.pending = String(left);
      if (!left) {
        bar.hidden = true;
        zone.classList.remove("is-uploading");
      }
    }
    xhr.addEventListener("load", function () {
      finish();
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
      if (xhr.status === 201 && body.id) {
        bar.value = 100;
        addFile(zone, body);
      } else {
        showError(zone, body.error || form.dataset.msgFailed);
      }
    });
    xhr.addEventListener("error", function () {
      finish();
      showError(zone, form.dataset.msgFailed);
    });
    xhr.send(data);
  }

  function uploadAll(zone, files) {
    showError(zone, "");
    for (var i = 0; i < files.length; i++) upload(zone, files[i]);
  }

  form.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches("input[type=file].file-input") || !window.FormData) return;
    var zone = input.closest(".dropzone");
    uploadAll(zone, input.files);
    input.value = ""; // staged: never sent again with the form
  });

  form.addEventListener("dragover", function (event) {
    var zone = event.target.closest && event.target.closest(".dropzone");
    if (!zone) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    zone.classList.add("is-over");
  });
  form.addEventListener("dragleave", function (event) {
    var zone = event.target.closest && event.target.closest(".dropzone");
    if (zone && !zone.contains(event.relatedTarget)) zone.classList.remove("is-over");
  });
  form.addEventListener("drop", function (event) {
    var zone = event.target.closest && event.target.closest(".dropzone");
    if (!zone) return;
    event.preventDefault();
    zone.classList.remove("is-over");
    if (event.dataTransfer && event.dataTransfer.files.length) uploadAll(zone, event.dataTransfer.files);
  });
  // A file dropped beside a drop zone must not open in the tab and lose the form.
  window.addEventListener("dragover", function (event) { event.preventDefault(); });
  window.addEventListener("drop", function (event) { event.preventDefault(); });

  form.addEventListener("click", function (event) {
    var remove = event.target.closest(".remove-file");
    if (!remove) return;
    var zone = remove.closest(".dropzone");
    remove.closest("li").remove();
    dirty = true;
    focusElement(zone.querySelector("input[type=file]"));
  });

  /* --- papers outside the published list -------------------------------------------------- */

  form.addEventListener("click", function (event) {
    if (!event.target.closest("#add-outside")) return;
    var total = form.querySelector("input[name='x-TOTAL_FORMS']");
    var template = byId("outside-template");
    var list = byId("outside-components");
    if (!total || !template || !list) return;
    var index = parseInt(total.value, 10) || 0;
    var max = parseInt((form.querySelector("input[name='x-MAX_NUM_FORMS']") || {}).value, 10) || 30;
    if (index >= max) return;
    var holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
    var row = holder.firstElementChild;
    list.appendChild(row);
    total.value = String(index + 1);
    if (window.htmx) window.htmx.process(row);
    focusElement(row.querySelector("input[type=text]"));
  });

  /* --- one submit only ------------------------------------------------------------------- */

  form.addEventListener("submit", function (event) {
    if (submitting) { event.preventDefault(); return; }
    var status = byId("saving-status");
    if (pending > 0) {
      event.preventDefault();
      if (status) status.textContent = form.dataset.msgUploading;
      return;
    }
    submitting = true;
    var button = event.submitter;
    if (button && button.name) {
      // Disabled buttons are not sent: carry the chosen outcome in a hidden field.
      var carried = document.createElement("input");
      carried.type = "hidden";
      carried.name = button.name;
      carried.value = button.value;
      form.appendChild(carried);
    }
    var buttons = form.querySelectorAll("button[name=outcome]");
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
    form.setAttribute("aria-busy", "true");
    if (status) status.textContent = form.dataset.msgSaving;
  });

  // Back from the result page (bfcache): the form may be used again, the server decides.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    submitting = false;
    form.removeAttribute("aria-busy");
    var buttons = form.querySelectorAll("button[name=outcome]");
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = false;
    var carried = form.querySelectorAll("input[type=hidden][name=outcome]");
    for (var j = 0; j < carried.length; j++) carried[j].remove();
  });
})();
