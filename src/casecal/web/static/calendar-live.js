// The open calendar page redraws itself when its entries change (an edit made in Outlook or
// Google, a colleague's court date): every 2 s while the tab is visible it asks
// /calendar/changes whether the version it shows is still current, and when it is not it
// fetches the page again and swaps the calendar region in place, keeping the scroll position
// and the focused entry. Nothing is redrawn while someone types in a form on the page; a
// hidden tab does not ask at all; errors back off up to a minute.
(() => {
  const region = document.getElementById("calendar-region");
  const note = document.getElementById("calendar-updated");
  if (!region || !region.dataset.changes) return;
  const EVERY = 2000;
  const LONGEST = 60000;
  let version = region.dataset.version || "";
  let wait = EVERY;
  let timer = null;
  let busy = false;
  let fade = null;

  const typing = () => {
    const field = document.activeElement;
    return Boolean(field && field.closest("form") && /^(INPUT|TEXTAREA|SELECT)$/.test(field.tagName));
  };

  const schedule = (ms) => {
    clearTimeout(timer);
    timer = document.hidden ? null : setTimeout(check, ms);
  };

  const announce = () => {
    if (!note) return;
    note.textContent = "Updated just now";
    clearTimeout(fade);
    fade = setTimeout(() => { note.textContent = ""; }, 30000);
  };

  const redraw = async () => {
    const answer = await fetch(window.location.href, { credentials: "same-origin", cache: "no-store" });
    if (!answer.ok) throw new Error(`page answered ${answer.status}`);
    const page = new DOMParser().parseFromString(await answer.text(), "text/html");
    const fresh = page.getElementById("calendar-region");
    if (!fresh) throw new Error("the page came back without a calendar");
    const focused = region.contains(document.activeElement) ? document.activeElement.getAttribute("href") : null;
    const x = window.scrollX;
    const y = window.scrollY;
    region.replaceChildren(...Array.from(fresh.childNodes, (node) => document.importNode(node, true)));
    version = fresh.dataset.version || version;
    region.dataset.version = version;
    window.scrollTo(x, y);
    if (focused) {
      const again = Array.from(region.querySelectorAll("a[href]")).find((a) => a.getAttribute("href") === focused);
      if (again) again.focus({ preventScroll: true });
    }
    announce();
  };

  async function check() {
    timer = null;
    if (busy || document.hidden) return;
    busy = true;
    try {
      const url = `${region.dataset.changes}&since=${encodeURIComponent(version)}`;
      const answer = await fetch(url, {
        credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" },
      });
      if (!answer.ok) throw new Error(`changes answered ${answer.status}`);
      const body = await answer.json();
      if (body.changed && !typing()) await redraw();
      wait = EVERY;
    } catch {
      wait = Math.min(wait * 2, LONGEST);
    } finally {
      busy = false;
      schedule(wait);
    }
  }

  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      clearTimeout(timer);
      timer = null;
    } else {
      wait = EVERY;
      schedule(0);
    }
  });
  schedule(EVERY);
})();
