"""WCAG 2.x contrast of the text a page shows, measured in the page (Playwright).

:func:`text_contrast` walks the visible elements under some CSS selectors that hold text of their own,
resolves each one's text colour (its alpha times the opacity of it and its ancestors) and the background
behind it (the ancestors' backgrounds, composited up to the first opaque one; the map, or nothing, counts
as white), and gives the WCAG contrast ratio, the ratio AA asks (4.5:1; 3:1 for large text: >= 24 px, or
>= 18.66 px bold) the font size, and whether it is decorative (inside ``aria-hidden``). :func:`under_aa` keeps the elements that fail.

    rows = text_contrast(page, [".gm-panel", ".gm-cmd-grid-label"])
    assert under_aa(rows) == []
"""

from __future__ import annotations

_JS = r"""
(selectors) => {
  const parse = s => {
    const m = s.match(/rgba?\(([^)]+)\)/);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, below) => { // top (rgba) composited over an opaque colour
    const a = top[3];
    return [0, 1, 2].map(i => top[i] * a + below[i] * (1 - a));
  };
  const lum = c => {
    const ch = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2];
  };
  const background = el => { // the opaque colour behind el's text
    const layers = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      if (node.classList.contains('leaflet-container')) break; // the map: white
      const bg = parse(getComputedStyle(node).backgroundColor);
      let alpha = bg[3];
      if (alpha > 0) {
        layers.push([bg[0], bg[1], bg[2], alpha]);
        if (alpha >= 1) break;
      }
    }
    let colour = [255, 255, 255];
    for (let i = layers.length - 1; i >= 0; i--) colour = over(layers[i], colour);
    return colour;
  };
  const opacity = el => {
    let o = 1;
    for (let node = el; node && node.nodeType === 1; node = node.parentElement)
      o *= Number(getComputedStyle(node).opacity);
    return o;
  };
  const seen = new Set();
  const rows = [];
  for (const sel of selectors) for (const root of document.querySelectorAll(sel)) {
    for (const el of [root, ...root.querySelectorAll('*')]) {
      if (seen.has(el)) continue;
      seen.add(el);
      const own = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim();
      if (!own) continue;
      const st = getComputedStyle(el);
      const r = el.getBoundingClientRect();
      if (st.visibility === 'hidden' || r.width === 0 || r.height === 0 || !el.getClientRects().length) continue;
      if (el.closest('[hidden]') || el.closest('.leaflet-control-attribution')) continue;
      const fg = parse(st.color);
      const bg = background(el);
      const text = over([fg[0], fg[1], fg[2], fg[3] * opacity(el)], bg);
      const [l1, l2] = [lum(text), lum(bg)].sort((a, b) => b - a);
      const size = parseFloat(st.fontSize);
      const bold = Number(st.fontWeight) >= 700;
      rows.push({
        text: own.slice(0, 40), tag: el.tagName.toLowerCase(), cls: String(el.className || ''),
        ratio: Math.round(((l1 + 0.05) / (l2 + 0.05)) * 100) / 100,
        needs: size >= 24 || (size >= 18.66 && bold) ? 3 : 4.5, size: size,
        decorative: !!el.closest('[aria-hidden="true"]'), // a picture (a legend's sample marker)
      });
    }
  }
  return rows;
}
"""


def text_contrast(page, selectors: list[str]) -> list[dict]:
    """Every visible element holding text under *selectors*: ``{text, tag, cls, ratio, needs, size, decorative}``."""
    return page.evaluate(_JS, selectors)


def under_aa(rows: list[dict]) -> list[dict]:
    """The rows whose contrast is under WCAG AA (``ratio < needs``)."""
    return [r for r in rows if r["ratio"] < r["needs"]]
