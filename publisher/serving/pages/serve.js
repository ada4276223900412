// Live reload: when the server announces a new build, the page fetches itself
// again and swaps its content in place, keeping where the reader was.
(() => {
  let version = Number(document.body.dataset.version);
  let running = false, again = false, latest = version;

  // the pages in view and next to it: their new images are decoded before the
  // swap; the others load when the reader scrolls to them
  function near() {
    const kept = new Set();
    pages().forEach((page, index) => {
      const box = page.getBoundingClientRect();
      if (box.bottom > -window.innerHeight / 2 && box.top < 1.5 * window.innerHeight) kept.add(index);
    });
    return kept;
  }

  const decoded = (image) => image.decode().catch(() => null);

  async function refresh(wanted) {
    const response = await fetch(location.pathname + location.search, { cache: "no-store" });
    const next = new DOMParser().parseFromString(await response.text(), "text/html");
    const live = next.getElementById("live");
    if (!live) return;
    // no blank page: the page keeps its height (each image has its size) and
    // where the reader was
    const kept = near();
    const fresh = [...live.querySelectorAll(".page img")];
    fresh.forEach((shown, index) => { if (!kept.has(index)) shown.loading = "lazy"; });
    await Promise.all(fresh.filter((_, index) => kept.has(index)).map((shown) => {
      const image = new Image();
      image.sizes = shown.sizes;
      image.srcset = shown.srcset;
      image.src = shown.getAttribute("src");
      return decoded(image);
    }));
    const x = window.scrollX, y = window.scrollY;
    document.getElementById("live").replaceWith(document.adoptNode(live));
    document.title = next.title;
    version = Math.max(version, Number(live.dataset.version) || wanted);
    document.body.dataset.version = String(version);
    window.scrollTo(x, y);
    const shown = [...document.querySelectorAll(".page img")];
    await Promise.all(shown.filter((_, index) => kept.has(index)).map(decoded));
    document.dispatchEvent(new CustomEvent("publisher:updated", { detail: version }));
  }

  // one refresh at a time; news that comes during one makes one more after it,
  // which fetches whatever is newest by then, unless the one that ran already
  // showed that version
  function schedule() {
    if (running) { again = true; return; }
    running = true;
    refresh(latest).catch(() => null).finally(() => {
      running = false;
      if (again) {
        again = false;
        if (latest > version) schedule();
      }
    });
  }

  function connect() {
    const events = new EventSource("/events");
    // an output's page is refreshed when a file of its own (any language, its
    // e-mail) changed, or anything that may concern every page (a build starts
    // or ends); the index, on any change
    const watched = document.body.dataset.watched;
    events.onmessage = (event) => {
      const news = JSON.parse(event.data);
      if (news.version <= version) return;
      if (watched && news.outputs && !news.outputs.some((path) => path.startsWith(watched))) {
        return;
      }
      latest = Math.max(latest, news.version);
      schedule();
    };
  }

  function pages() { return [...document.querySelectorAll(".page")]; }

  function current() {
    const all = pages();
    const middle = window.innerHeight / 3;
    let found = 0;
    all.forEach((page, index) => { if (page.getBoundingClientRect().top <= middle) found = index; });
    return found;
  }

  function go(step) {
    const all = pages();
    if (!all.length) return;
    const target = all[Math.min(all.length - 1, Math.max(0, current() + step))];
    target.scrollIntoView({ block: "start" });
    history.replaceState(null, "", "#" + target.id);
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest && event.target.closest("input, textarea, select")) return;
    if (event.key === "j" || event.key === "ArrowRight") { go(1); event.preventDefault(); }
    else if (event.key === "k" || event.key === "ArrowLeft") { go(-1); event.preventDefault(); }
    else if (event.key === "g") { location.href = "/"; }
  });

  connect();
})();
