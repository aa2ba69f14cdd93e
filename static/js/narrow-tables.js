// Phones (issue 13): a data table shows each row as a card, one cell a line,
// each cell led by its column's heading (static/css/site.css, "Phones").
// The heading is copied here from the table's own header row into a
// data-label attribute; without script the cards simply have no labels.
document.addEventListener("DOMContentLoaded", () => {
  for (const table of document.querySelectorAll("table.data")) {
    const headings = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
    for (const row of table.querySelectorAll("tbody tr")) {
      let column = 0;
      for (const cell of row.children) {
        if (headings[column] && !cell.hasAttribute("data-label")) {
          cell.setAttribute("data-label", headings[column]);
        }
        column += cell.colSpan || 1;
      }
    }
  }
});
