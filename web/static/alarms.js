// The live alarm queue: ticking ages, refresh on server-sent events, a beep for a new alarm,
// keyboard shortcuts. Plain JavaScript, no build step, nothing fetched from elsewhere.
(function () {
  "use strict";

  var consoleEl = document.getElementById("alarm-console");
  if (!consoleEl) return;

  var lastEvents = Number(consoleEl.dataset.events || 0);
  var lastAlarm = Number(consoleEl.dataset.alarm || 0);
  var clockOffset = 0; // server time minus this computer's time, in ms
  var audio = null;
  var source = null;
  var status = document.getElementById("live-status");

  function readClock() {
    var list = document.getElementById("alarm-list");
    if (list && list.dataset.serverNow) {
      clockOffset = Number(list.dataset.serverNow) - Date.now();
    }
  }

  // Ages in whole seconds, counted from the server's clock so a slow PC clock does not lie.
  function tick() {
    var now = Date.now() + clockOffset;
    document.querySelectorAll("[data-opened]").forEach(function (el) {
      var opened = Date.parse(el.dataset.opened);
      if (!isNaN(opened)) el.textContent = String(Math.max(0, Math.floor((now - opened) / 1000)));
    });
  }

  // Browsers allow sound only after the person has used the page: make it ready on first use.
  function unlockAudio() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    if (!audio) audio = new Context();
    if (audio.state === "suspended") audio.resume();
  }

  function beep() {
    if (!audio) return;
    var start = audio.currentTime;
    [0, 0.3].forEach(function (delay) {
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, start + delay);
      gain.gain.exponentialRampToValueAtTime(0.4, start + delay + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + delay + 0.22);
      osc.connect(gain).connect(audio.destination);
      osc.start(start + delay);
      osc.stop(start + delay + 0.25);
    });
  }

  function selectedId() {
    var detail = document.getElementById("alarm-detail");
    return detail && detail.dataset.alarmId ? detail.dataset.alarmId : "";
  }

  function fetchText(url) {
    return fetch(url, {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
      .then(function (response) {
        // Signed out meanwhile: the answer is the sign-in page. Reload to show it.
        if (response.redirected && response.url.indexOf("/login") !== -1) {
          window.location.reload();
          throw new Error("signed out");
        }
        if (!response.ok) throw new Error(response.status);
        return response.text();
      });
  }

  function refreshList() {
    var url = consoleEl.dataset.list + "?selected=" + encodeURIComponent(selectedId());
    return fetchText(url).then(function (html) {
      var list = document.getElementById("alarm-list");
      if (list) list.outerHTML = html;
      readClock();
      tick();
    }).catch(function () {});
  }

  function panelUrl(id) {
    return consoleEl.dataset.panel.replace(/\/0\/panel$/, "/" + id + "/panel");
  }

  // Someone writing a note must not lose it to a refresh: tell them instead.
  function isEditing(detail) {
    if (detail.contains(document.activeElement) &&
        /^(TEXTAREA|INPUT|SELECT)$/.test(document.activeElement.tagName)) return true;
    return Array.prototype.some.call(detail.querySelectorAll("textarea, select"), function (el) {
      return el.value !== "";
    });
  }

  function refreshDetail() {
    var detail = document.getElementById("alarm-detail");
    var id = selectedId();
    if (!detail || !id) return;
    if (isEditing(detail)) {
      var notice = detail.querySelector(".live-changed");
      if (notice) notice.hidden = false;
      return;
    }
    fetchText(panelUrl(id) + "?refresh=1").then(function (html) {
      var current = document.getElementById("alarm-detail");
      if (current && current.dataset.alarmId === id) current.outerHTML = html;
      tick();
    }).catch(function () {});
  }

  function showAlarm(id) {
    fetchText(panelUrl(id)).then(function (html) {
      var current = document.getElementById("alarm-detail");
      if (current) current.outerHTML = html;
      document.querySelectorAll(".alarm-row").forEach(function (row) {
        var on = row.dataset.alarmId === String(id);
        row.classList.toggle("selected", on);
        if (on) row.setAttribute("aria-current", "true"); else row.removeAttribute("aria-current");
      });
      history.replaceState(null, "", consoleEl.dataset.list.replace(/\/list$/, "/" + id));
      tick();
    }).catch(function () {
      window.location.href = consoleEl.dataset.list.replace(/\/list$/, "/" + id);
    });
  }

  function move(step) {
    var rows = Array.prototype.slice.call(document.querySelectorAll(".alarm-row"));
    if (!rows.length) return;
    var index = rows.findIndex(function (row) { return row.dataset.alarmId === selectedId(); });
    index = index === -1 ? (step > 0 ? 0 : rows.length - 1)
                         : Math.min(rows.length - 1, Math.max(0, index + step));
    rows[index].scrollIntoView({block: "nearest"});
    showAlarm(rows[index].dataset.alarmId);
  }

  function submit(key) {
    var form = document.querySelector('#alarm-detail form[data-shortcut="' + key + '"]');
    if (form) form.requestSubmit();
  }

  function focusField(id) {
    var field = document.getElementById(id);
    if (field) { field.focus(); return true; }
    return false;
  }

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) || target.isContentEditable) {
      if (event.key === "Escape") target.blur();
      return;
    }
    var handled = true;
    switch (event.key) {
      case "j": case "ArrowDown": move(1); break;
      case "k": case "ArrowUp": move(-1); break;
      case "c": case "u": case "a": case "b": submit(event.key); break;
      case "n": handled = focusField("note"); break;
      case "r": handled = focusField("outcome"); break;
      case "?":
        var help = document.getElementById("shortcuts");
        help.open = !help.open;
        if (help.open) help.scrollIntoView({block: "nearest"});
        break;
      default: handled = false;
    }
    if (handled) event.preventDefault();
  }

  function setStatus(key) {
    if (status && status.dataset[key]) status.textContent = status.dataset[key];
  }

  // One stream per tab. EventSource reconnects by itself when the server ends a stream.
  function listen() {
    if (!window.EventSource) return;
    source = new EventSource(consoleEl.dataset.stream);
    source.addEventListener("open", function () { setStatus("live"); });
    source.addEventListener("error", function () { setStatus("offline"); });
    source.addEventListener("alarms", function (message) {
      var data = JSON.parse(message.data);
      setStatus("live");
      if (data.alarm > lastAlarm) beep();
      if (data.events !== lastEvents || data.alarm !== lastAlarm) {
        refreshList();
        refreshDetail();
      }
      lastEvents = data.events;
      lastAlarm = data.alarm;
    });
  }

  consoleEl.addEventListener("click", function (event) {
    var link = event.target.closest("a.alarm-link");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    showAlarm(link.closest(".alarm-row").dataset.alarmId);
  });
  document.addEventListener("keydown", onKey);
  document.addEventListener("keydown", unlockAudio, {once: true});
  document.addEventListener("pointerdown", unlockAudio, {once: true});
  window.addEventListener("pagehide", function () { if (source) source.close(); });

  readClock();
  tick();
  setInterval(tick, 1000);
  listen();
})();
