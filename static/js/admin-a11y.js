// The admin, readable by a screen reader (issue 13; axe-core, WCAG 2.1 AA).
//
// A tabular inline (a memo's measures, a subject's listings) names each column
// once, in its header row, so its inputs have no label of their own; and the
// boxes select2 draws for autocomplete fields (a search input, a combobox)
// have none either.  Each gets an aria-label: the column's heading, or the
// label of the field select2 stands for, with the row's number in an inline.
// Rows added later ("添加另一个") and boxes select2 draws later are labelled
// as they appear.
(function () {
  "use strict";

  function text(element) {
    return element ? element.textContent.replace(/\s+/g, " ").replace(/[:：*]\s*$/, "").trim() : "";
  }

  function columnHeading(cell) {
    const table = cell.closest("table");
    const row = cell.parentElement;
    if (!table || !table.tHead || !row) return "";
    let column = 0;
    for (const sibling of row.children) {
      if (sibling === cell) break;
      column += sibling.colSpan || 1;
    }
    let at = 0;
    for (const heading of table.tHead.rows[0].cells) {
      if (at === column) return text(heading);
      at += heading.colSpan || 1;
    }
    return "";
  }

  function rowNumber(cell) {
    const row = cell.closest("tr.form-row");
    if (!row || !row.id) return "";
    const match = row.id.match(/-(\d+)$/);
    return match ? `第 ${Number(match[1]) + 1} 行 ` : "";
  }

  function fieldLabel(field) {
    if (field.id) {
      const label = document.querySelector(`label[for="${CSS.escape(field.id)}"]`);
      if (label && text(label)) return text(label);
    }
    const cell = field.closest("td");
    return cell ? rowNumber(cell) + columnHeading(cell) : "";
  }

  function label(root) {
    for (const field of root.querySelectorAll(
      ".tabular td input:not([type=hidden]), .tabular td select, .tabular td textarea"
    )) {
      if (!field.hasAttribute("aria-label") && !field.labels?.length) {
        const name = fieldLabel(field);
        if (name) field.setAttribute("aria-label", name);
      }
    }
    // select2 draws its box right after the <select> it stands for.
    for (const box of root.querySelectorAll(".select2-container")) {
      const select = box.previousElementSibling;
      const name = select && select.tagName === "SELECT" ? fieldLabel(select) : "";
      if (!name) continue;
      for (const part of box.querySelectorAll(
        ".select2-selection[role=combobox], .select2-selection__rendered[role=textbox], .select2-search__field"
      )) {
        if (!part.hasAttribute("aria-label")) part.setAttribute("aria-label", name);
      }
    }
  }

  function start() {
    label(document);
    new MutationObserver((changes) => {
      for (const change of changes) {
        for (const node of change.addedNodes) {
          if (node.nodeType === 1) label(node.closest(".inline-group, form") || node);
        }
      }
    }).observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
