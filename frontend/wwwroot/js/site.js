// CeleryKube pages: live updates on top of pages that already work without JavaScript.
// - [data-live-tasks] tables patch their rows from /events/tasks (server-sent events relaying
//   WatchTasks); each event is a row's values, already formatted by the server.
// - #task-view (task page) follows one task: progress in place, and its content (history
//   included) fetched again (without the layout) when the state changes. A failed or cancelled
//   task is still followed, since a retry brings it back.
// - [data-autorefresh] (cluster page) swaps in fresh content every few seconds.
// - #service-banner shows while TaskService is unreachable; pages recover when it is back.
// - #live-status says whether the list or task page is live, or paused while TaskService is at
//   its stream cap.
"use strict";

(function () {
  const banner = document.getElementById("service-banner");
  const liveWorkerUrl = document.currentScript?.dataset.liveWorker;
  const liveStatus = document.getElementById("live-status");

  function setServiceAvailable(available) {
    if (banner) banner.hidden = available;
    if (liveStatus) {
      liveStatus.textContent = available ? "Live" : "";
      liveStatus.title = "";
    }
  }

  // Follows task events: every task (ids null) or the given ones. The stream reconnects by
  // itself (the server asks for 3 s) after it ends, e.g. while task-service is down. onTask gets
  // a row (see Services/TaskRow.cs). onAvailable(afterOutage) runs each time the stream (re)opens
  // with the service up: events may have been missed before it, so callers re-read what they
  // show. onDeleted gets the id of a task that was deleted (by a person or the retention sweep).
  // Returns an object whose close() stops following.
  function watchTasks(ids, onTask, onAvailable, onDeleted) {
    let wasDown = false;
    const events = {
      service(available) {
        setServiceAvailable(available);
        if (available) onAvailable(wasDown);
        wasDown = !available;
      },
      task: onTask,
      deleted: onDeleted,
      paused(reason) {
        // TaskService serves as many live pages as it may; the server asked to come back later.
        setServiceAvailable(true);
        if (liveStatus) {
          liveStatus.textContent = "Live updates paused; trying again shortly";
          liveStatus.title = reason;
        }
        wasDown = true;
      },
      error() {
        // The frontend itself is unreachable or the stream ended; the browser retries.
        if (liveStatus) liveStatus.textContent = "";
        wasDown = true;
      },
    };
    const stream = sharedStream(ids, events) ?? ownStream(ids, events);
    return {
      close() {
        stream.close();
        if (liveStatus) liveStatus.textContent = "";
      },
    };
  }

  // All tabs share one stream through live-worker.js where the browser can: over HTTP/1.1 a
  // browser keeps at most 6 connections to a host and each open stream holds one, so with a
  // stream per tab a seventh live tab would not load. Null where there are no shared workers.
  function sharedStream(ids, events) {
    if (typeof SharedWorker === "undefined" || !liveWorkerUrl) return null;
    let worker;
    try {
      worker = new SharedWorker(liveWorkerUrl, { name: "celerykube-live" });
    } catch {
      return null;
    }
    const port = worker.port;
    // A worker that cannot run (its script failed to load) or has no EventSource: this page
    // opens a stream of its own instead.
    let own = null;
    const useOwn = () => { own ??= ownStream(ids, events); };
    worker.onerror = useOwn;
    port.onmessage = (e) => {
      const { type, value } = e.data;
      if (type === "unsupported") useOwn();
      else events[type](value);
    };
    const watch = () => port.postMessage({ type: "watch", ids });
    const unwatch = () => port.postMessage({ type: "unwatch" });
    // A page kept for the back button lets go while it is away. Back again, it follows again,
    // and what changed meanwhile was missed, as after an outage.
    const onPageHide = () => unwatch();
    const onPageShow = (e) => {
      if (!e.persisted) return;
      events.error();
      watch();
    };
    addEventListener("pagehide", onPageHide);
    addEventListener("pageshow", onPageShow);
    watch();
    return {
      close() {
        removeEventListener("pagehide", onPageHide);
        removeEventListener("pageshow", onPageShow);
        unwatch();
        port.onmessage = null;
        if (own) own.close();
      },
    };
  }

  // A stream of this page's own (server-sent events of /events/tasks).
  function ownStream(ids, events) {
    const query = ids === null ? "" : "?" + ids.map((id) => "id=" + encodeURIComponent(id)).join("&");
    const source = new EventSource("/events/tasks" + query);
    source.addEventListener("service", (e) => events.service(JSON.parse(e.data).available));
    source.addEventListener("task", (e) => events.task(JSON.parse(e.data)));
    source.addEventListener("deleted", (e) => events.deleted(JSON.parse(e.data).id));
    source.addEventListener("paused", (e) => events.paused(JSON.parse(e.data).reason));
    source.addEventListener("error", () => events.error());
    return source;
  }

  function setProgress(progress, value) {
    if (!progress) return;
    progress.value = value;
    progress.textContent = Math.round(value * 100) + "%";
  }

  // Puts a row's values into the markup of Pages/Shared/_TaskRow.cshtml.
  function fillRow(tr, row) {
    tr.dataset.taskId = row.id;
    tr.dataset.state = row.state;
    tr.dataset.created = row.createdIso;
    for (const el of tr.querySelectorAll("[data-field]")) el.textContent = row[el.dataset.field];
    const shown = { finished: row.finished, running: row.state === "running", cancelling: row.cancelling };
    for (const el of tr.querySelectorAll("[data-show]")) el.hidden = !shown[el.dataset.show];
    tr.querySelector("[data-field=match]").hidden = row.match === "";
    tr.querySelector(".badge").className = "badge badge-" + row.state;
    const link = tr.querySelector("a");
    link.href = "/Tasks/" + encodeURIComponent(row.id);
    link.title = row.id;
    const box = tr.querySelector("input[name=ids]");
    box.value = row.id;
    box.setAttribute("aria-label", "Select task " + row.shortId);
    tr.querySelector("time").setAttribute("datetime", row.createdIso);
    const progress = tr.querySelector("progress");
    progress.setAttribute("aria-label", "Progress of task " + row.shortId);
    setProgress(progress, row.progress);
  }

  // Task list: known rows are patched in place; a new task matching the filter and search is
  // added on top of the first page of a newest-first list. Only after an outage (events missed)
  // are the rows fetched again.
  const table = document.querySelector("[data-live-tasks]");
  if (table) {
    const tbody = table.tBodies[0];
    const template = document.getElementById("task-row-template");
    const total = document.getElementById("task-total");
    const { firstPage, stateFilter, queueFilter, idFilter, sort } = table.dataset;
    const pageSize = Number(table.dataset.pageSize);

    async function refetchRows() {
      try {
        const response = await fetch(table.dataset.rowsUrl, { headers: { Accept: "text/html" } });
        if (!response.ok) { setServiceAvailable(response.status !== 503); return; }
        const checked = new Set([...tbody.querySelectorAll("input[name=ids]:checked")].map((c) => c.value));
        tbody.innerHTML = await response.text();
        for (const box of tbody.querySelectorAll("input[name=ids]")) box.checked = checked.has(box.value);
      } catch {
        // The frontend is unreachable; the event stream's reconnect will try again.
      }
    }

    function addRow(row) {
      // Oldest first, a new task belongs on the last page: it shows there on the next visit.
      if (firstPage !== "true" || sort === "oldest") return;
      if ((stateFilter && row.state !== stateFilter) || (queueFilter && row.queue !== queueFilter)) return;
      if (idFilter && !row.id.startsWith(idFilter)) return;
      const newest = tbody.querySelector("tr[data-task-id]");
      // An older task changed: its place is further down the list, not on top.
      if (newest && newest.dataset.created > row.createdIso) return;
      const tr = template.content.firstElementChild.cloneNode(true);
      fillRow(tr, row);
      tr.classList.add("row-new");
      tbody.insertBefore(tr, newest);
      tbody.querySelector(".empty-row").hidden = true;
      const rows = tbody.querySelectorAll("tr[data-task-id]");
      if (rows.length > pageSize) rows[rows.length - 1].remove();
      if (total) total.textContent = (Number(total.textContent.replace(/\D/g, "")) + 1).toLocaleString("en-US");
    }

    const rowOf = (id) => tbody.querySelector(`tr[data-task-id="${CSS.escape(id)}"]`);
    watchTasks(null, (row) => {
      const tr = rowOf(row.id);
      if (tr) fillRow(tr, row); else addRow(row);
    }, (afterOutage) => { if (afterOutage) refetchRows(); }, (id) => {
      const tr = rowOf(id);
      if (!tr) return;
      tr.remove();
      if (total) total.textContent = Math.max(0, Number(total.textContent.replace(/\D/g, "")) - 1).toLocaleString("en-US");
      if (!tbody.querySelector("tr[data-task-id]")) tbody.querySelector(".empty-row").hidden = false;
    });
  }

  // Task page: follow one task until it finishes for good (succeeds, or is deleted).
  const view = document.getElementById("task-view");
  const head = () => view.querySelector("[data-task]");
  if (view && head() && head().dataset.follow === "true") {
    const id = head().dataset.task;
    let wanted = head().dataset.state;
    let loading = false;
    // Set when the stream (re)opens: what changed between the page's render (e.g. the redirect
    // after Retry) and the stream's start sent no event, so the content is read once more.
    let unsure = false;

    // Fetches the content again until it shows the latest state an event announced.
    async function reloadView() {
      if (loading) return;
      loading = true;
      try {
        while (head() && (unsure || head().dataset.state !== wanted)) {
          unsure = false;
          const response = await fetch(head().dataset.viewUrl, { headers: { Accept: "text/html" } });
          if (!response.ok) { setServiceAvailable(response.status !== 503); return; }
          view.innerHTML = await response.text();
          if (head() && head().dataset.follow !== "true") { source.close(); return; }
        }
      } catch {
        // The frontend is unreachable; the next event or reconnect tries again.
      } finally {
        loading = false;
      }
    }

    const source = watchTasks([id], (row) => {
      if (row.id !== id) return;
      wanted = row.state;
      if (row.state !== head().dataset.state) { reloadView(); return; }
      setProgress(document.getElementById("task-progress"), row.progress);
      const text = document.getElementById("task-progress-text");
      if (text) text.textContent = Math.round(row.progress * 100) + "%";
    }, () => { unsure = true; reloadView(); }, (deleted) => { if (deleted === id) location.reload(); });
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
