/* MathJax 2 settings for the notebook pages, copied to assets/mathjax/config/local/gpuguide.js by `make docs`.
   The jupyter-server-mathjax wheel ships the STIX-Web fonts only, so HTML-CSS must not look for the TeX ones; and
   MathJax's placeholder font "MathJax_Blank" points at about:blank, which Chromium reports as a failed font load:
   a local() source names the same absent font without any request. */
MathJax.Hub.Config({
  "HTML-CSS": {
    availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null,
    styles: { "@font-face": { "font-family": "MathJax_Blank", src: "local('MathJax_Blank')" } }
  },
  menuSettings: { zoom: "None" }
});
MathJax.Ajax.loadComplete("[MathJax]/config/local/gpuguide.js");
