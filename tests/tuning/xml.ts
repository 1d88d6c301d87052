// A strict little XML parser for checking the SVG chart: it throws on anything not well-formed
// (unbalanced or mismatched tags, unquoted or duplicate attributes, bare '&' or '<', several roots).
export interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  text: string;
}

const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*/;
const ENTITY = /^&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/;

function decode(s: string, where: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '<') throw new Error(`bare '<' in ${where}`);
    if (c !== '&') {
      out += c;
      continue;
    }
    const m = ENTITY.exec(s.slice(i));
    if (!m) throw new Error(`bad entity in ${where}: ${s.slice(i, i + 10)}`);
    const e = m[1]!;
    out += e === 'amp' ? '&' : e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'quot' ? '"' : e === 'apos' ? "'" : String.fromCodePoint(e.startsWith('#x') ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    i += m[0].length - 1;
  }
  return out;
}

export function parseXml(src: string): XmlNode {
  let pos = 0;
  const skipWs = () => {
    while (pos < src.length && /\s/.test(src[pos]!)) pos++;
  };
  if (src.startsWith('<?xml')) {
    const end = src.indexOf('?>');
    if (end < 0) throw new Error('unterminated XML declaration');
    pos = end + 2;
  }
  const root: XmlNode = { name: '#document', attrs: {}, children: [], text: '' };
  const stack: XmlNode[] = [root];
  while (pos < src.length) {
    const lt = src.indexOf('<', pos);
    const textEnd = lt < 0 ? src.length : lt;
    const text = src.slice(pos, textEnd);
    const top = stack[stack.length - 1]!;
    if (text.trim()) {
      if (top === root) throw new Error('text outside the root element');
      top.text += decode(text, `<${top.name}> text`);
    }
    if (lt < 0) break;
    pos = lt;
    if (src.startsWith('<!--', pos)) {
      const end = src.indexOf('-->', pos);
      if (end < 0) throw new Error('unterminated comment');
      pos = end + 3;
      continue;
    }
    if (src.startsWith('</', pos)) {
      pos += 2;
      const m = NAME.exec(src.slice(pos));
      if (!m) throw new Error(`bad closing tag at ${pos}`);
      pos += m[0].length;
      skipWs();
      if (src[pos] !== '>') throw new Error(`bad closing tag </${m[0]}`);
      pos++;
      const open = stack.pop();
      if (!open || open === root || open.name !== m[0]) throw new Error(`</${m[0]}> closes <${open?.name}>`);
      continue;
    }
    pos++;
    const m = NAME.exec(src.slice(pos));
    if (!m) throw new Error(`bad tag at ${pos}`);
    pos += m[0].length;
    const node: XmlNode = { name: m[0], attrs: {}, children: [], text: '' };
    for (;;) {
      const before = pos;
      skipWs();
      if (src.startsWith('/>', pos)) {
        pos += 2;
        top.children.push(node);
        break;
      }
      if (src[pos] === '>') {
        pos++;
        top.children.push(node);
        stack.push(node);
        break;
      }
      if (pos === before) throw new Error(`missing space between attributes of <${node.name}>`);
      const a = NAME.exec(src.slice(pos));
      if (!a) throw new Error(`bad attribute in <${node.name}> at ${pos}`);
      pos += a[0].length;
      if (src[pos] !== '=') throw new Error(`attribute ${a[0]} of <${node.name}> has no value`);
      pos++;
      const q = src[pos];
      if (q !== '"' && q !== "'") throw new Error(`attribute ${a[0]} of <${node.name}> is not quoted`);
      const end = src.indexOf(q, pos + 1);
      if (end < 0) throw new Error('unterminated attribute value');
      if (a[0] in node.attrs) throw new Error(`duplicate attribute ${a[0]} in <${node.name}>`);
      node.attrs[a[0]] = decode(src.slice(pos + 1, end), `attribute ${a[0]}`);
      pos = end + 1;
    }
    if (top === root && root.children.length > 1) throw new Error('more than one root element');
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (root.children.length !== 1) throw new Error('no root element');
  return root.children[0]!;
}

export function findAll(node: XmlNode, pred: (n: XmlNode) => boolean, out: XmlNode[] = []): XmlNode[] {
  if (pred(node)) out.push(node);
  for (const c of node.children) findAll(c, pred, out);
  return out;
}

export function allText(node: XmlNode): string {
  return [node.text, ...node.children.map(allText)].join(' ');
}
