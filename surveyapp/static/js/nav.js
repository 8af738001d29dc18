// On phones the menu is one sideways-scrolling row: bring the current section into view.
(function () {
  var current = document.querySelector(".main-nav a[aria-current]");
  var row = current && current.closest("ul");
  if (row && row.scrollWidth > row.clientWidth) {
    row.scrollLeft = current.offsetLeft - row.offsetLeft - 16;
  }
})();
