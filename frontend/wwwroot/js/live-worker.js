// CeleryKube live updates shared by every tab of one browser (a SharedWorker started by site.js).
// Over plain HTTP/1.1 a browser keeps at most 6 connections to one host, and an event stream holds
// one for as long as it is open: with a stream per tab, a seventh live tab could not even load its
// page. Here one stream serves all tabs: it follows what they follow together (every task when a
// list is open, else the tasks the open task pages show) and hands each tab the events it asked
// for. Messages from a tab: {type: "watch", ids} (ids null for every task) and {type: "unwatch"}.
// Messages to a tab: {type, value} with type service, task, deleted, paused or error, the events
// of /events/tasks (see Services/TaskEventStream.cs); {type: "unsupported"} where a worker has no
// EventSource, so the tab opens its own stream.
"use strict";

// More ids than this make the query string long; following every task is then simpler.
const maxFollowedIds = 100;

// Each tab's port and what it follows: null for every task, else a Set of task ids.
const watching = new Map();
let stream = null;
let streamQuery = null;
// The stream being replaced keeps delivering until its successor is live, so no event falls between them.
let previous = null;
let lastService = null;
let reopenPlanned = false;

function queryFor() {
  const ids = new Set();
  for (const followed of watching.values()) {
    if (followed === null) return "";
    for (const id of followed) ids.add(id);
  }
  if (ids.size === 0) return null;
  if (ids.size > maxFollowedIds) return "";
  return "?" + [...ids].sort().map((id) => "id=" + encodeURIComponent(id)).join("&");
}

function wants(followed, id) {
  return followed === null || followed.has(id);
}

function toAll(type, value) {
  for (const port of watching.keys()) port.postMessage({ type, value });
}

function toWatchersOf(id, type, value) {
  for (const [port, followed] of watching) if (wants(followed, id)) port.postMessage({ type, value });
}

function open(query) {
  const source = new EventSource("/events/tasks" + query);
  source.addEventListener("service", (e) => {
    if (source === stream && previous) {
      previous.close();
      previous = null;
    }
    lastService = JSON.parse(e.data).available;
    toAll("service", lastService);
  });
  source.addEventListener("task", (e) => {
    const row = JSON.parse(e.data);
    toWatchersOf(row.id, "task", row);
  });
  source.addEventListener("deleted", (e) => {
    const id = JSON.parse(e.data).id;
    toWatchersOf(id, "deleted", id);
  });
  source.addEventListener("paused", (e) => {
    lastService = null;
    toAll("paused", JSON.parse(e.data).reason);
  });
  source.addEventListener("error", () => {
    if (source !== stream) return;
    lastService = null;
    toAll("error", null);
    // Refused for good (an HTTP error, not a dropped connection): the next change of what the
    // tabs follow opens a new one.
    if (source.readyState === EventSource.CLOSED) {
      stream = null;
      streamQuery = null;
    }
  });
  return source;
}

// Reopens the stream when what the tabs follow together changed; several changes at once (tabs
// restored together) cause one reopen.
function planReopen() {
  if (reopenPlanned) return;
  reopenPlanned = true;
  setTimeout(() => {
    reopenPlanned = false;
    const query = queryFor();
    if (query === streamQuery) return;
    if (previous) previous.close();
    previous = query === null ? null : stream;
    if (query === null && stream) stream.close();
    stream = query === null ? null : open(query);
    streamQuery = query;
    lastService = null;
  }, 0);
}

onconnect = (event) => {
  const port = event.ports[0];
  if (typeof EventSource === "undefined") {
    port.postMessage({ type: "unsupported" });
    return;
  }
  port.onmessage = (e) => {
    const message = e.data;
    if (message.type === "watch") {
      watching.set(port, message.ids === null ? null : new Set(message.ids));
      // Already live for this tab: it hears so at once, as it would from a stream of its own.
      if (streamQuery !== null && lastService !== null && queryFor() === streamQuery) port.postMessage({ type: "service", value: lastService });
    } else if (message.type === "unwatch") {
      watching.delete(port);
    }
    planReopen();
  };
};
