"""The chat UI's CSS and its one script, injected through the sources panel's `head=` so that the Blocks
carry them wherever they are served (`demo.launch()` or `gr.mount_gradio_app`, which drop Blocks-level css).

The script selects a source card when a `[n]` link (`href="#src-<turn>-<n>"`) is clicked: it opens the
folded answer it sits in, outlines it and scrolls it into view. It never reads or writes article text.
"""

from __future__ import annotations

CSS = """
.nr-sources { display: flex; flex-direction: column; gap: 6px; padding-top: 14px; }
.nr-turn > summary, .nr-turn-q { font-size: 0.9em; color: var(--body-text-color-subdued); margin: 4px 0 6px; }
.nr-turn > summary { cursor: pointer; }
.nr-src { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px; margin: 0 0 8px;
          background: var(--block-background-fill); scroll-margin: 12px; transition: box-shadow 0.2s; }
.nr-src.nr-selected { box-shadow: 0 0 0 3px var(--color-accent); border-color: var(--color-accent); }
.nr-src-head { font-weight: 600; }
.nr-src-n { color: var(--color-accent); }
.nr-src-meta { font-size: 0.85em; color: var(--body-text-color-subdued); margin: 2px 0 6px;
               overflow-wrap: anywhere; }
.nr-src-speaker { font-size: 0.9em; font-style: italic; margin: 0 0 4px; }
.nr-src-context { margin: 0; padding: 0 0 0 8px; border-left: 3px solid var(--border-color-primary);
                  font-size: 0.92em; line-height: 1.5; overflow-wrap: anywhere; }
.nr-src-context mark, .nr-answer mark { background: #fde68a; color: #1f2937; padding: 0 2px; border-radius: 2px; }
.nr-src-none { color: var(--body-text-color-subdued); font-style: italic; }
a.nr-cite { font-weight: 600; text-decoration: none; color: var(--color-accent); cursor: pointer;
            padding: 0 1px; }
a.nr-cite:hover, a.nr-cite:focus { text-decoration: underline; }
.nr-searching { font-size: 0.85em; color: var(--body-text-color-subdued); margin-bottom: 6px; }
.nr-notice { font-size: 0.85em; border-left: 3px solid #f59e0b; padding-left: 6px; margin-bottom: 6px; }
.nr-pending { color: var(--body-text-color-subdued); font-style: italic; }
.nr-answer, .nr-question { white-space: pre-wrap; overflow-wrap: anywhere; }
.nr-refusal { border: 1px dashed var(--border-color-primary); border-radius: 8px; padding: 8px 10px;
              background: var(--background-fill-secondary); color: var(--body-text-color-subdued); }
.nr-refusal-title { font-weight: 600; margin-bottom: 2px; }
.nr-refusal-title::before { content: "\\2298  "; }
.nr-error { border: 1px solid #f87171; border-radius: 8px; padding: 8px 10px; background: rgba(248, 113, 113, 0.1); }
.nr-error-title { font-weight: 600; margin-bottom: 2px; }
@media (max-width: 640px) {
  .nr-src { padding: 6px 8px; }
  #nr-sources-col { max-height: none; }
}
"""

SCRIPT = """
(function () {
  if (window.__newsragCites) return;
  window.__newsragCites = true;
  document.addEventListener("click", function (ev) {
    var t = ev.target;
    var a = t && t.closest ? t.closest('a[href^="#src-"]') : null;
    if (!a) return;
    ev.preventDefault();
    ev.stopPropagation();
    var card = document.getElementById(a.getAttribute("href").slice(1));
    if (!card) return;
    for (var d = card.parentElement; d; d = d.parentElement) { if (d.tagName === "DETAILS") d.open = true; }
    document.querySelectorAll(".nr-src.nr-selected").forEach(function (x) { x.classList.remove("nr-selected"); });
    card.classList.add("nr-selected");
    card.scrollIntoView({ behavior: "smooth", block: "center" });
  }, true);
})();
"""

HEAD = f"<style>{CSS}</style><script>{SCRIPT}</script>"
