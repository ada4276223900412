// Live reload: when the server announces a new build, the page fetches itself
// again and swaps its content in place, keeping where the reader was.
(() => {
  let version = Number(document.body.dataset.version);
  let fetching = null;

  async function refresh(wanted) {
    const response = await fetch(location.pathname + location.search, { cache: "no-store" });
    const next = new DOMParser().parseFromString(await response.text(), "text/html");
    const live = next.getElementById("live");
    if (!live) return;
    // the new pages are fetched and decoded before they replace the old ones:
    // no blank page, and the page keeps its height and where the reader was
    await Promise.all([...live.querySelectorAll(".page img")].map((shown) => {
      const image = new Image();
      image.sizes = shown.sizes;
      image.srcset = shown.srcset;
      image.src = shown.getAttribute("src");
      return image.decode().catch(() => null);
    }));
    const x = window.scrollX, y = window.scrollY;
    document.getElementById("live").replaceWith(document.adoptNode(live));
    document.title = next.title;
    version = Math.max(version, Number(live.dataset.version) || wanted);
    document.body.dataset.version = String(version);
    window.scrollTo(x, y);
    const images = [...document.querySelectorAll(".page img")];
    await Promise.all(images.map((image) => image.decode().catch(() => null)));
    document.dispatchEvent(new CustomEvent("publisher:updated", { detail: version }));
  }

  function connect() {
    const events = new EventSource("/events");
    events.onmessage = (event) => {
      const news = JSON.parse(event.data);
      if (news.version <= version) return;
      const run = () => refresh(news.version).catch(() => null);
      fetching = (fetching || Promise.resolve()).then(run);
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
