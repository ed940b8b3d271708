// Enhancements of the directory page; the page works without them.
// Type-ahead: names of verified associations from /api/v1/search/suggest fill the search box's list.
// "Near me": with the person's consent, the phone's location fills the hidden `near` field and the form is sent.
(function () {
  "use strict";
  var box = document.getElementById("q");
  var list = document.getElementById("suggestions");
  var pending = null;
  if (box && list && window.fetch) {
    box.addEventListener("input", function () {
      var text = box.value.trim();
      clearTimeout(pending);
      if (text.length < 2) { return; }
      pending = setTimeout(function () {
        fetch("/api/v1/search/suggest?q=" + encodeURIComponent(text) + "&size=8")
          .then(function (answer) { return answer.ok ? answer.json() : { items: [] }; })
          .then(function (found) {
            list.textContent = "";
            found.items.forEach(function (item) {
              var option = document.createElement("option");
              option.value = item.name;
              list.appendChild(option);
            });
          })
          .catch(function () { list.textContent = ""; });
      }, 200);
    });
  }
  var nearMe = document.getElementById("near-me");
  var near = document.getElementById("near");
  if (nearMe && near && navigator.geolocation) {
    nearMe.hidden = false;
    nearMe.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (position) {
        near.value = position.coords.latitude.toFixed(4) + "," + position.coords.longitude.toFixed(4);
        document.getElementById("near_city").value = "";
        nearMe.form.submit();
      });
    });
  }
})();
