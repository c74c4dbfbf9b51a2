/** The dashboard page: one static HTML document, no external resources (works offline). */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>connect-wfm demo</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2330; }
  header { background: #1d2330; color: #fff; padding: 10px 16px; display: flex; gap: 24px; align-items: baseline; }
  header h1 { font-size: 18px; margin: 0; }
  #status { font-size: 13px; opacity: .85; }
  main { display: grid; grid-template-columns: 2fr 1fr; gap: 12px; padding: 12px; }
  section { background: #fff; border-radius: 6px; padding: 10px 12px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
  h2 { font-size: 14px; margin: 0 0 8px; }
  #grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(92px, 1fr)); gap: 4px; }
  .agent { border-radius: 4px; padding: 3px 5px; font-size: 11px; color: #fff; overflow: hidden; white-space: nowrap; border: 2px solid transparent; }
  .agent b { display: block; font-weight: 600; }
  .agent.mismatch { border-color: #e00000; box-shadow: 0 0 0 2px #ffd400; }
  .s-available { background: #2e9e4f; } .s-oncontact { background: #1f6fd1; } .s-onhold { background: #7b4bd1; }
  .s-offered { background: #0aa5b5; } .s-aftercontactwork { background: #d18a1f; } .s-missed { background: #c0392b; }
  .s-break, .s-lunch, .s-training, .s-meeting { background: #8a6d3b; } .s-loggedout { background: #9aa0a8; }
  .s-unknown { background: #555; }
  .legend span { display: inline-block; padding: 1px 6px; margin: 2px; border-radius: 3px; color: #fff; font-size: 11px; }
  table { border-collapse: collapse; width: 100%; font-size: 12px; }
  td, th { text-align: left; padding: 2px 4px; border-bottom: 1px solid #eee; }
  .bars { display: flex; align-items: flex-end; gap: 3px; height: 90px; }
  .bar { background: #1f6fd1; flex: 1; min-height: 1px; position: relative; }
  .bar span { position: absolute; bottom: -16px; left: 0; font-size: 9px; color: #555; }
  .kv { display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; font-size: 12px; }
  .bad { color: #c0392b; font-weight: 600; }
  .ok { color: #2e9e4f; font-weight: 600; }
</style>
</head>
<body>
<header><h1>connect-wfm demo</h1><div id="status">connecting…</div></header>
<main>
  <section>
    <h2>Agents: the state the WFM holds (<span id="mismatches">0</span> mismatches with the truth)</h2>
    <div class="legend">
      <span class="s-available">Available</span><span class="s-oncontact">OnContact</span><span class="s-onhold">OnHold</span>
      <span class="s-offered">Offered</span><span class="s-aftercontactwork">AfterContactWork</span><span class="s-missed">Missed</span>
      <span class="s-break">Break/Lunch/…</span><span class="s-loggedout">Logged out</span>
      <span class="s-unknown" style="border:2px solid #e00000">red border = mismatch</span>
    </div>
    <div id="grid"></div>
  </section>
  <div>
    <section>
      <h2>RTA latency (PutRecords → WFM accepted)</h2>
      <div class="kv"><span>samples</span><span id="lat-n">0</span><span>p50 / p90 / p99</span><span id="lat-p">–</span></div>
      <div class="bars" id="lat-bars"></div><div style="height:16px"></div>
    </section>
    <section>
      <h2>Agent event stream</h2>
      <div class="kv">
        <span>events/s</span><span id="eps">0</span>
        <span>events total</span><span id="ev-total">0</span>
        <span>contacts</span><span id="contacts">0</span>
        <span>shard lag</span><span id="lag">–</span>
      </div>
    </section>
    <section>
      <h2>RTA daemon</h2>
      <div class="kv" id="daemon"></div>
    </section>
    <section>
      <h2>Files delivered over SFTP</h2>
      <table><thead><tr><th>file</th><th>rows</th></tr></thead><tbody id="files"></tbody></table>
      <h2 style="margin-top:8px">Quarantined bad records</h2>
      <table><tbody id="quarantine"></tbody></table>
    </section>
    <section><h2>Notes</h2><div id="notes" style="font-size:12px"></div></section>
  </div>
</main>
<script>
const $ = (id) => document.getElementById(id);
function cls(code) {
  if (code === null) return 's-unknown';
  const c = code.toLowerCase();
  if (c === 'logged-off' || c === 'ccc logged out') return 's-loggedout';
  return 's-' + c.replace(/[^a-z]/g, '');
}
function text(el, value) { el.textContent = value; }
function render(s) {
  text($('status'), 'simulated ' + s.simulatedNow.replace('T', ' ').slice(0, 19) + ' UTC · updated ' + s.now.slice(11, 19));
  text($('mismatches'), s.mismatches);
  $('mismatches').className = s.mismatches > 0 ? 'bad' : 'ok';
  const grid = $('grid');
  grid.replaceChildren(...s.agents.map((a) => {
    const d = document.createElement('div');
    const shown = a.wfm ?? (a.truth === 'LOGGED-OFF' ? 'LOGGED-OFF' : null);
    d.className = 'agent ' + cls(shown) + (a.mismatch ? ' mismatch' : '');
    d.dataset.user = a.username;
    d.dataset.mismatch = String(a.mismatch);
    d.title = a.username + ' (' + a.profile + ')\\nWFM: ' + (a.wfm ?? '–') + '\\ntruth: ' + a.truth;
    const b = document.createElement('b'); b.textContent = a.username;
    const span = document.createElement('span'); span.textContent = a.wfm ?? '–';
    if (a.wfm === null && shown !== null) span.title = 'not sent to the WFM yet: logged out';
    d.append(b, span);
    return d;
  }));
  text($('lat-n'), s.latency.count);
  const fmt = (v) => v === null ? '–' : v + ' ms';
  text($('lat-p'), fmt(s.latency.p50) + ' / ' + fmt(s.latency.p90) + ' / ' + fmt(s.latency.p99));
  const max = Math.max(1, ...s.latency.buckets.map((b) => b.count));
  $('lat-bars').replaceChildren(...s.latency.buckets.map((b) => {
    const d = document.createElement('div'); d.className = 'bar';
    d.style.height = (100 * b.count / max) + '%';
    d.title = (b.le === null ? '> 60 s' : '≤ ' + b.le + ' ms') + ': ' + b.count;
    const l = document.createElement('span'); l.textContent = b.le === null ? '>' : (b.le >= 1000 ? b.le / 1000 + 's' : b.le);
    d.append(l); return d;
  }));
  text($('eps'), s.eventsPerSecond); text($('ev-total'), s.eventsTotal); text($('contacts'), s.contacts);
  text($('lag'), s.shardLagMs === null ? '–' : s.shardLagMs + ' ms');
  $('daemon').replaceChildren(...Object.entries(s.daemon).flatMap(([k, v]) => {
    const a = document.createElement('span'); a.textContent = k;
    const b = document.createElement('span'); b.textContent = v === null ? '–' : String(v);
    return [a, b];
  }));
  $('files').replaceChildren(...s.files.slice(-12).map((f) => {
    const tr = document.createElement('tr');
    const a = document.createElement('td'); a.textContent = f.name;
    const b = document.createElement('td'); b.textContent = f.rows;
    tr.append(a, b); return tr;
  }));
  $('quarantine').replaceChildren(...(s.quarantined.length === 0 ? [['none yet', '']] : s.quarantined.map((q) => [q.key, q.bytes + ' B'])).slice(-8).map(([k, v]) => {
    const tr = document.createElement('tr');
    const a = document.createElement('td'); a.textContent = k;
    const b = document.createElement('td'); b.textContent = v;
    tr.append(a, b); return tr;
  }));
  $('notes').replaceChildren(...s.notes.map((n) => { const p = document.createElement('div'); p.textContent = n; return p; }));
}
const source = new EventSource('/events');
source.addEventListener('state', (e) => render(JSON.parse(e.data)));
source.onerror = () => text($('status'), 'disconnected (the demo stopped?)');
</script>
</body>
</html>
`;
