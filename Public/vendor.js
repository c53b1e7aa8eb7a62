// Third-party assets with a CDN fallback. The page asks the server first (/vendor/, Debian's
// libjs-bootstrap5 and libjs-chart.js); when those did not load, this loads the same versions from
// the CDN, pinned and checked with Subresource Integrity. The Content-Security-Policy allows that
// one origin and no inline script, which is why the fallback lives in this file and not in
// onerror attributes. Runs deferred: after the /vendor/ Chart.js attempt, and (deferred scripts
// wait for style sheets) after the /vendor/ Bootstrap style sheet loaded or failed.
//
// js/main.js (a module script, so deferred too, and after this one) waits on
// window.musicstreamAssets.chart, a promise of the Chart constructor (or null when neither copy
// loads: the page then works without charts).
"use strict";
(function () {
  // Debian 12 ships Bootstrap 5.2.3 and Chart.js 3.9.1. Chart.js: Debian's chart.min.js is
  // byte-identical to the upstream release, so its hash is computed from that file (the browser
  // tests check it). Bootstrap: Debian rebuilds the CSS from source, so its file differs from the
  // release; the hash is the one Bootstrap publishes for 5.2.3's dist/css/bootstrap.min.css.
  const CDN = {
    bootstrap: {
      href: "https://cdnjs.cloudflare.com/ajax/libs/bootstrap/5.2.3/css/bootstrap.min.css",
      integrity: "sha384-rbsA2VBKQhggwzxH7pPCaAqO46MgnOM80zW1RWuH61DGLwZJEdK2Kadq2F9CUG65",
    },
    chart: {
      src: "https://cdnjs.cloudflare.com/ajax/libs/Chart.js/3.9.1/chart.min.js",
      integrity: "sha384-9MhbyIRcBVQiiC7FSd7T38oJNj2Zh+EfxS7/vjhBi4OOT78NlHSnzM31EZRWR1LZ",
    },
  };

  // Bootstrap defines its colour custom properties on :root; app.css defines none of them.
  function bootstrapApplied() {
    return getComputedStyle(document.documentElement).getPropertyValue("--bs-blue").trim() !== "";
  }

  if (!bootstrapApplied()) {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = CDN.bootstrap.href;
    link.integrity = CDN.bootstrap.integrity;
    link.crossOrigin = "anonymous";
    link.dataset.fallback = "bootstrap";
    // Before app.css, so the page's own rules keep winning.
    document.head.insertBefore(link, document.getElementById("app-css"));
  }

  let chart;
  if (typeof window.Chart === "function") {
    chart = Promise.resolve(window.Chart);
  } else {
    chart = new Promise((resolve) => {
      const script = document.createElement("script");
      script.src = CDN.chart.src;
      script.integrity = CDN.chart.integrity;
      script.crossOrigin = "anonymous";
      script.dataset.fallback = "chart.js";
      script.addEventListener("load", () => resolve(typeof window.Chart === "function" ? window.Chart : null));
      script.addEventListener("error", () => resolve(null));
      document.head.appendChild(script);
    });
  }
  window.musicstreamAssets = Object.freeze({ chart });
})();
