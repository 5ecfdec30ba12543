// The inbox refreshes itself (polling with ETags: a 304 while nothing changed); canned replies fill the reply box.
"use strict";
(function () {
  const rows = document.getElementById("queue-rows");
  if (rows && rows.dataset.src) {
    let tag = null;
    const refresh = async function () {
      try {
        const headers = { "X-Console-Fetch": "1" };
        if (tag) headers["If-None-Match"] = tag;
        const response = await fetch(rows.dataset.src, { headers: headers, credentials: "same-origin" });
        if (response.status === 200) {
          tag = response.headers.get("ETag");
          rows.innerHTML = await response.text(); // rendered and escaped by the server
        } else if (response.status === 401) {
          window.location.reload();
        }
      } catch (error) {
        // the server is restarting: try again at the next tick
      }
    };
    window.setInterval(refresh, 2000);
  }
  document.querySelectorAll("button.canned-reply").forEach(function (button) {
    button.addEventListener("click", function () {
      const box = document.getElementById(button.dataset.target);
      box.value = button.dataset.text;
      box.focus();
    });
  });
})();
