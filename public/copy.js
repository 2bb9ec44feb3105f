// Copy buttons of the code examples (landing page, docs). A file of the site rather than
// an inline script: the Content-Security-Policy runs only the site's own files. Without
// JavaScript the buttons stay hidden and the code can be selected as usual.
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  var code = document.getElementById(button.dataset.copy);
  if (!code || !navigator.clipboard) return;
  var label = button.textContent;
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(code.textContent).then(function () {
      button.textContent = button.dataset.done;
      setTimeout(function () { button.textContent = label; }, 1500);
    });
  });
});
