// The page web serves: the emojis to vote for and a leaderboard, refreshed every few seconds.
export const WEB_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>tsmesh demo: emoji vote</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 56rem; color: #222; }
  h1 { font-size: 1.5rem; }
  .grid { display: flex; flex-wrap: wrap; gap: .5rem; }
  .grid button { font-size: 2rem; width: 3.5rem; height: 3.5rem; border: 1px solid #ccc; border-radius: .5rem; background: #fff; cursor: pointer; }
  .grid button:hover { background: #eef; }
  #status { min-height: 1.5rem; margin: 1rem 0; }
  .error { color: #b00; }
  ol { font-size: 1.25rem; }
</style>
</head>
<body>
<h1>Vote for your favourite emoji</h1>
<p>Served by <b>web</b>, which asks <b>emoji</b> and <b>voting</b> over gRPC — every hop through a tsmesh proxy with mutual TLS.</p>
<div class="grid" id="emojis"></div>
<div id="status"></div>
<h2>Leaderboard</h2>
<ol id="leaders"></ol>
<script>
const status = document.getElementById('status');
async function load() {
  const list = await (await fetch('/api/list')).json();
  const grid = document.getElementById('emojis');
  grid.replaceChildren(...list.map((e) => {
    const b = document.createElement('button');
    b.textContent = e.unicode;
    b.title = e.shortcode;
    b.onclick = () => vote(e);
    return b;
  }));
}
async function vote(e) {
  const res = await fetch('/api/vote?choice=' + encodeURIComponent(e.shortcode));
  const body = await res.json();
  status.className = res.ok ? '' : 'error';
  status.textContent = res.ok ? 'You voted for ' + e.unicode + ' ' + e.shortcode : 'Vote failed: ' + body.error;
  leaders();
}
async function leaders() {
  const rows = await (await fetch('/api/leaderboard')).json();
  document.getElementById('leaders').replaceChildren(...rows.slice(0, 10).map((r) => {
    const li = document.createElement('li');
    li.textContent = (r.unicode || r.shortcode) + '  ' + r.votes;
    return li;
  }));
}
load().then(leaders);
setInterval(leaders, 3000);
</script>
</body>
</html>
`;
