// Shows one of the project's Markdown documents (docs/*.md, served through
// the web/docs link) as HTML.  A deliberately small Markdown subset:
// headings, paragraphs, lists, tables, code blocks, block quotes, links,
// inline code, bold and italics.  Everything is escaped first.

const DOCS = { 'user-guide': 'User guide', settings: 'Settings reference', metrics: 'Metrics', api: 'API', pitch: 'Pitch', cloning: 'Cloning' };

const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function slug(text) {
  return text.toLowerCase().replace(/<[^>]+>/g, '').replace(/[^\p{L}\p{N}\s_-]/gu, '').trim().replace(/\s+/g, '-');
}

function inline(s) {
  const codes = [];
  let t = esc(s).replace(/`([^`]+)`/g, (_, c) => { codes.push(c); return `\u0000${codes.length - 1}\u0000`; });
  t = t.replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_, label, href) => {
    let u = href.replace(/&amp;/g, '&');
    if (/^javascript:/i.test(u)) u = '#';
    // links between docs stay inside the viewer
    const m = u.match(/^(?:\.\.\/docs\/|docs\/|\.\/)?([a-z0-9-]+)\.md(#.*)?$/i);
    if (m && DOCS[m[1]]) u = `guide.html${m[1] === 'user-guide' ? '' : `?doc=${m[1]}`}${m[2] || ''}`;
    return `<a href="${esc(u)}">${label}</a>`;
  });
  t = t.replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>').replace(/(^|[\s(])\*([^*\s][^*]*)\*/g, '$1<em>$2</em>');
  return t.replace(/\u0000(\d+)\u0000/g, (_, i) => `<code>${codes[+i]}</code>`);
}

export function markdown(md) {
  const lines = md.replace(/\r\n/g, '\n').split('\n');
  const out = [];
  let i = 0;
  const isTableSep = (l) => /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(l);
  const cells = (l) => l.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
  while (i < lines.length) {
    const l = lines[i];
    if (/^```/.test(l)) {
      const buf = [];
      i++;
      while (i < lines.length && !/^```/.test(lines[i])) buf.push(lines[i++]);
      i++;
      out.push(`<pre><code>${esc(buf.join('\n'))}</code></pre>`);
      continue;
    }
    const hm = l.match(/^(#{1,6})\s+(.*)$/);
    if (hm) {
      const n = hm[1].length;
      out.push(`<h${n} id="${slug(hm[2])}">${inline(hm[2])}</h${n}>`);
      i++;
      continue;
    }
    if (/^\s*\|/.test(l) && i + 1 < lines.length && isTableSep(lines[i + 1])) {
      const head = cells(l);
      i += 2;
      const rows = [];
      while (i < lines.length && /^\s*\|/.test(lines[i])) rows.push(cells(lines[i++]));
      out.push(`<table><thead><tr>${head.map((c) => `<th scope="col">${inline(c)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`);
      continue;
    }
    if (/^\s*([-*]|\d+\.)\s+/.test(l)) {
      const ordered = /^\s*\d+\./.test(l);
      const items = [];
      while (i < lines.length && (/^\s*([-*]|\d+\.)\s+/.test(lines[i]) || (/^\s{2,}\S/.test(lines[i]) && items.length))) {
        if (/^\s*([-*]|\d+\.)\s+/.test(lines[i])) items.push(lines[i].replace(/^\s*([-*]|\d+\.)\s+/, ''));
        else items[items.length - 1] += ` ${lines[i].trim()}`;
        i++;
      }
      const tag = ordered ? 'ol' : 'ul';
      out.push(`<${tag}>${items.map((it) => `<li>${inline(it)}</li>`).join('')}</${tag}>`);
      continue;
    }
    if (/^>\s?/.test(l)) {
      const buf = [];
      while (i < lines.length && /^>\s?/.test(lines[i])) buf.push(lines[i++].replace(/^>\s?/, ''));
      out.push(`<blockquote><p>${inline(buf.join(' '))}</p></blockquote>`);
      continue;
    }
    if (!l.trim()) { i++; continue; }
    const buf = [];
    while (i < lines.length && lines[i].trim() && !/^(#{1,6}\s|```|>|\s*([-*]|\d+\.)\s+)/.test(lines[i]) && !(/^\s*\|/.test(lines[i]) && isTableSep(lines[i + 1] || ''))) buf.push(lines[i++]);
    out.push(`<p>${inline(buf.join(' '))}</p>`);
  }
  return out.join('\n');
}

async function show() {
  const art = document.getElementById('doc');
  const name = new URLSearchParams(location.search).get('doc') || 'user-guide';
  if (!DOCS[name]) {
    art.innerHTML = `<h1>Unknown document</h1><p>Choose one of: ${Object.keys(DOCS).map((d) => `<a href="guide.html?doc=${d}">${DOCS[d]}</a>`).join(', ')}.</p>`;
    art.setAttribute('aria-busy', 'false');
    return;
  }
  document.title = `voxclone — ${DOCS[name]}`;
  try {
    const r = await fetch(`docs/${name}.md`, { cache: 'no-store' });
    if (!r.ok) throw new Error(`${r.status}`);
    art.innerHTML = markdown(await r.text());
  } catch (e) {
    art.innerHTML = `<h1>${esc(DOCS[name])}</h1><p class="error">This document is not available here (${esc(String(e.message))}). It is docs/${name}.md in the source tree.</p>`;
  }
  art.setAttribute('aria-busy', 'false');
  if (location.hash) document.getElementById(decodeURIComponent(location.hash.slice(1)))?.scrollIntoView();
}

show();
