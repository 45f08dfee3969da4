// CeleryKube pages: live updates on top of pages that already work without JavaScript.
// - [data-live-tasks] tables follow /events/tasks (server-sent events relaying WatchTasks).
// - [data-live-task] (task page) follows one task and reloads when its state changes.
// - [data-autorefresh] (cluster page) swaps in fresh content every few seconds.
// - #service-banner shows while TaskService is unreachable; pages recover when it is back.
"use strict";

(function () {
  const banner = document.getElementById("service-banner");
  const liveStatus = document.getElementById("live-status");

  function setServiceAvailable(available) {
    if (banner) banner.hidden = available;
    if (liveStatus) liveStatus.textContent = available ? "Live" : "";
  }

  // Follows task events; EventSource reconnects by itself (the server asks for 3 s) after the
  // stream ends, e.g. while task-service is down. onTask gets {id, state, progress}.
  // onAvailable(afterOutage) runs each time the stream (re)opens with the service up: events
  // may have been missed before it, so callers re-read what they show.
  function watchTasks(query, onTask, onAvailable) {
    const source = new EventSource("/events/tasks" + query);
    let wasDown = false;
    source.addEventListener("service", (e) => {
      const available = JSON.parse(e.data).available;
      setServiceAvailable(available);
      if (available) onAvailable(wasDown);
      wasDown = !available;
    });
    source.addEventListener("task", (e) => onTask(JSON.parse(e.data)));
    source.addEventListener("error", () => {
      // The frontend itself is unreachable or the stream ended; the browser retries.
      if (liveStatus) liveStatus.textContent = "";
      wasDown = true;
    });
    return source;
  }

  function setProgress(progress, value) {
    if (!progress) return;
    progress.value = value;
    progress.textContent = Math.round(value * 100) + "%";
  }

  // Task list: progress changes are applied in place; anything else (a new task, a state
  // change) re-fetches the rows from the server, which renders them exactly like a reload.
  const table = document.querySelector("[data-live-tasks]");
  if (table) {
    const tbody = table.querySelector("tbody");
    let refetchTimer = null;
    let refetching = false;

    async function refetchRows() {
      refetchTimer = null;
      if (refetching) { scheduleRefetch(); return; }
      refetching = true;
      try {
        const response = await fetch(table.dataset.rowsUrl, { headers: { Accept: "text/html" } });
        if (!response.ok) { setServiceAvailable(response.status !== 503); return; }
        const checked = new Set([...tbody.querySelectorAll("input[name=ids]:checked")].map((c) => c.value));
        tbody.innerHTML = await response.text();
        for (const box of tbody.querySelectorAll("input[name=ids]")) box.checked = checked.has(box.value);
      } catch {
        // The frontend is unreachable; the event stream's reconnect will try again.
      } finally {
        refetching = false;
      }
    }

    function scheduleRefetch() {
      if (refetchTimer === null) refetchTimer = setTimeout(refetchRows, 250);
    }

    watchTasks("", (task) => {
      const row = tbody.querySelector(`tr[data-task-id="${CSS.escape(task.id)}"]`);
      if (row && row.dataset.state === task.state) {
        setProgress(row.querySelector("progress"), task.progress);
      } else {
        scheduleRefetch();
      }
    }, () => scheduleRefetch());
  }

  // Task page: follow one unfinished task.
  const taskHead = document.querySelector("[data-live-task]");
  if (taskHead) {
    const id = taskHead.dataset.liveTask;
    watchTasks("?id=" + encodeURIComponent(id), (task) => {
      if (task.id !== id) return;
      if (task.state !== taskHead.dataset.state) {
        location.reload();
        return;
      }
      setProgress(document.getElementById("task-progress"), task.progress);
      const text = document.getElementById("task-progress-text");
      if (text) text.textContent = Math.round(task.progress * 100) + "%";
    }, (afterOutage) => { if (afterOutage) location.reload(); });
  }

  // Dashboards: fetch the page again and swap its main content, keeping scroll position.
  const autorefresh = document.querySelector("[data-autorefresh]");
  if (autorefresh) {
    const seconds = Number(autorefresh.dataset.autorefresh) || 5;
    setInterval(async () => {
      try {
        const response = await fetch(location.href, { headers: { Accept: "text/html" } });
        const doc = new DOMParser().parseFromString(await response.text(), "text/html");
        const fresh = doc.getElementById("main");
        const freshBanner = doc.getElementById("service-banner");
        if (fresh) document.getElementById("main").innerHTML = fresh.innerHTML;
        if (freshBanner) setServiceAvailable(freshBanner.hidden);
      } catch {
        setServiceAvailable(false);
      }
    }, seconds * 1000);
  }
})();
