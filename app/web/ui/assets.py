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
/* a refusal is a notice to read (amber, like a caution sign), never greyed out as if disabled */
.nr-refusal { border: 1px solid #f59e0b; border-left: 4px solid #d97706; border-radius: 8px; padding: 8px 12px;
              background: #fffbeb; color: #1f2937; }
.nr-refusal-title { font-weight: 600; margin-bottom: 2px; color: #78350f; }
.nr-refusal-title::before { content: "i"; display: inline-block; width: 1.25em; height: 1.25em; line-height: 1.25em;
                             margin-right: 6px; border-radius: 50%; background: #d97706; color: #fff;
                             text-align: center; font-family: Georgia, serif; font-weight: 700; }
.nr-refusal-reason { color: #1f2937; }
#nr-table th, #nr-table th * { white-space: nowrap; }
.nr-preview-title { margin: 0 0 4px; font-size: 1.05em; font-weight: 600; }
.nr-preview-text { max-height: 420px; overflow-y: auto; font-size: 0.92em; line-height: 1.5;
                   overflow-wrap: anywhere; margin-top: 6px; }
.nr-preview-text p { margin: 0 0 0.6em; }
.nr-preview-more { color: var(--body-text-color-subdued); font-style: italic; }
.nr-eval-answer { margin: 4px 0 8px; }
.nr-eval-claim { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px; }
.nr-eval-sentence { margin: 0 0 6px; }
.nr-eval-evidence { margin-top: 6px; }
.nr-eval-src { font-weight: 600; font-size: 0.9em; }
.nr-eval-speaker { font-size: 0.88em; margin: 2px 0 4px; }
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
