// A one-shot notice (?done=... or ?flash=..., with the entry it names in ?saved=...) is shown
// once: a moment after the page has loaded, the address loses those parameters, so a reload,
// a bookmark or the back button does not bring the notice back. (Not at once: whatever waits
// for the page at the address it was sent to, a script or a test, still finds it there.)
(() => {
  const clean = () => {
    const url = new URL(window.location.href);
    let changed = false;
    for (const name of ["done", "flash", "saved"]) {
      if (url.searchParams.has(name)) {
        url.searchParams.delete(name);
        changed = true;
      }
    }
    if (changed) window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
  };
  const later = () => setTimeout(clean, 1000);
  if (document.readyState === "complete") later();
  else window.addEventListener("load", later, { once: true });
})();
