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

// A refused stream (an HTTP error, e.g. from a proxy during a deploy) is not retried by the
// browser: the worker opens a new one after this long.
const reopenRefusedAfterMs = 10000;

// Each tab's port and what it follows: null for every task, else a Set of task ids.
const watching = new Map();
// The newest stream and what it follows ("" every task, "?id=..." some; null when no tab follows anything).
let stream = null;
let streamQuery = null;
// While a new stream is not live yet, the one it replaces keeps delivering, so no event falls
// between them; it is closed once the new one is live.
let previous = null;
// What the tabs were last told about the stream ({type: "service" | "paused", value}), for a tab that joins later.
let status = null;
let reopenPlanned = false;
let reopenRefusedPlanned = false;

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

function toAll(type, value) {
  for (const port of watching.keys()) port.postMessage({ type, value });
}

function toWatchersOf(id, type, value) {
  for (const [port, followed] of watching) if (followed === null || followed.has(id)) port.postMessage({ type, value });
}

function tell(type, value) {
  status = { type, value };
  toAll(type, value);
}

function closePrevious() {
  if (!previous) return;
  previous.close();
  previous = null;
}

function open(query) {
  const source = new EventSource("/events/tasks" + query);
  source.addEventListener("service", (e) => {
    // Only the newest stream speaks for the tabs; the one it replaces only delivers changes.
    if (source !== stream) return;
    closePrevious();
    tell("service", JSON.parse(e.data).available);
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
    if (source !== stream) {
      // The stream being replaced lost its place: the new one takes over when it is live.
      source.close();
      if (source === previous) previous = null;
      return;
    }
    // TaskService is at its stream cap: the tabs are told so, and the stream being replaced
    // gives its place back instead of holding it while the new one waits.
    closePrevious();
    tell("paused", JSON.parse(e.data).reason);
  });
  source.addEventListener("error", () => {
    const closed = source.readyState === EventSource.CLOSED;
    if (source === previous) {
      if (closed) previous = null;
      return;
    }
    if (source !== stream) return;
    status = null;
    toAll("error", null);
    if (closed) {
      stream = null;
      streamQuery = null;
      planReopenRefused();
    }
  });
  return source;
}

// Opens a stream for what the tabs follow together when that changed; several changes at once
// (tabs restored together) open one.
function planReopen() {
  if (reopenPlanned) return;
  reopenPlanned = true;
  setTimeout(() => {
    reopenPlanned = false;
    const query = queryFor();
    if (query === streamQuery) return;
    if (query === null) {
      closePrevious();
      stream?.close();
      stream = null;
      streamQuery = null;
      status = null;
      return;
    }
    // A stream that is not live yet is dropped for the new one; a live one delivers until then.
    if (previous) stream?.close();
    else previous = stream;
    stream = open(query);
    streamQuery = query;
  }, 0);
}

function planReopenRefused() {
  if (reopenRefusedPlanned) return;
  reopenRefusedPlanned = true;
  setTimeout(() => {
    reopenRefusedPlanned = false;
    planReopen();
  }, reopenRefusedAfterMs);
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
      // A tab that joins a stream already open hears its state at once, as from a stream of its own.
      if (status) port.postMessage(status);
    } else if (message.type === "unwatch") {
      watching.delete(port);
    }
    planReopen();
  };
};
