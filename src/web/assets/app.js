// tidings web view: live updates. Reads the daemon's event stream (/live, NDJSON) with
// fetch streaming; each notice's row is rendered by the server (/fragments/event-row/ID,
// escaped there) for the filters this page shows, and goes into the reserved live box
// (and replaces the row in the table when the event is listed); an event's own page
// says when that event changed. The badge in the header
// says whether the stream is up; a dropped stream is retried with a growing pause.
(() => {
  'use strict';
  const badge = document.getElementById('stream-badge');
  const live = document.getElementById('live');
  let pause = 1000;

  function setBadge(state, text) {
    if (!badge) return;
    badge.dataset.state = state;
    badge.textContent = text;
  }

  async function rowFor(id) {
    const filters = live.dataset.filters || '';
    const url = '/fragments/event-row/' + encodeURIComponent(id) + (filters ? '?' + filters : '');
    const res = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
    if (res.status !== 200) return null; // 204: not for these filters
    const template = document.createElement('template');
    template.innerHTML = (await res.text()).trim();
    return template.content.querySelector('tr');
  }

  async function handle(notice) {
    const id = notice && notice.event && notice.event.id;
    if (typeof id !== 'number') return;
    const changed = document.getElementById('event-changed');
    if (changed && changed.dataset.eventId === String(id)) changed.hidden = false;
    if (!live) return;
    const row = await rowFor(id);
    if (!row) return;
    row.dataset.change = notice.change;
    row.classList.add('arrived');
    const listed = document.querySelector('#event-rows tr[data-event-id="' + id + '"]');
    if (listed) listed.replaceWith(row.cloneNode(true));
    const box = document.getElementById('live-rows');
    const earlier = box.querySelector('tr[data-event-id="' + id + '"]');
    if (earlier) earlier.remove();
    box.prepend(row);
    const empty = document.getElementById('live-empty');
    if (empty) empty.hidden = true;
  }

  async function connect() {
    setBadge('connecting', 'live updates: connecting');
    try {
      const res = await fetch('/live', { credentials: 'same-origin', cache: 'no-store' });
      if (!res.ok || !res.body) throw new Error('the stream answered ' + res.status);
      setBadge('up', 'live updates: on');
      pause = 1000;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffered = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffered += value;
        let end;
        while ((end = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, end).trim();
          buffered = buffered.slice(end + 1);
          if (!line) continue;
          try {
            await handle(JSON.parse(line));
          } catch (e) {
            console.warn('tidings: a live notice was not shown', e);
          }
        }
      }
      throw new Error('the stream ended');
    } catch (e) {
      setBadge('down', 'live updates: stream down, retrying');
      setTimeout(connect, pause);
      pause = Math.min(pause * 2, 30000);
    }
  }

  connect();
})();
