// monitor: small progressive enhancement. Pages are complete without it: times are
// written in UTC by the server; this shows them in the viewer's time zone, zone named.
(function () {
  "use strict";
  var zone = "UTC";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch (e) { /* an old browser: stay with UTC */ }
  var format;
  try {
    format = new Intl.DateTimeFormat(undefined, {
      year: "numeric", month: "short", day: "numeric",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short"
    });
  } catch (e) {
    return;
  }
  function localise(root) {
    var times = root.querySelectorAll("time[datetime]");
    for (var i = 0; i < times.length; i++) {
      var el = times[i];
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when.getTime())) continue;
      if (!el.title) el.title = el.textContent;  // the UTC time stays one hover away
      el.textContent = format.format(when);
    }
    var shown = document.getElementById("zone");
    if (shown) shown.textContent = zone + " (your browser's time zone)";
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { localise(document); });
  } else {
    localise(document);
  }
})();
