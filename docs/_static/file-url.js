// Opened from file:// (README: "open site/index.html"), the browser refuses the fetch()
// Sphinx's search makes for each result's text snippet (CORS), and logs an error per result.
// The result list itself comes from searchindex.js and works; only the snippets are skipped.
if (window.location.protocol === "file:" && typeof DOCUMENTATION_OPTIONS !== "undefined") {
  DOCUMENTATION_OPTIONS.SHOW_SEARCH_SUMMARY = false;
}
