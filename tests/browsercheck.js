// Probe run by tests/browsercheck.py in the reviewer page: for each card side, show it as Anki's
// reviewer does (body classes, #qa content, MathJax typeset) and list what is wrong with it.
const [sides, screenWidth, sideways] = arguments;
const done = arguments[arguments.length - 1];
const SKIP = new Set(["MJX-CONTAINER", "CODE", "PRE", "SCRIPT", "STYLE", "TEXTAREA", "ANNOTATION"]);
const RAW_TEX = ["\\(", "\\)", "\\[", "\\]", "$$", "\\begin{"];
const SCROLLS = new Set(["auto", "scroll", "hidden", "clip"]);

function short(text, size = 60) {
  text = text.replace(/\s+/g, " ").trim();
  return text.length > size ? text.slice(0, size - 1) + "…" : text;
}

function mathProblems(qa, problems, texOf) {
  for (const item of MathJax.startup.document.math) {
    const mml = MathJax.startup.toMML(item.root);
    for (const m of mml.matchAll(/<merror[^>]*?data-mjx-error="([^"]*)"/g)) {
      problems.push(`MathJax error "${m[1]}" in ${short(item.math)}`);
    }
    for (const m of mml.matchAll(/<mtext[^>]*?mathcolor="red"[^>]*>\s*(\\[^<]*?)\s*<\/mtext>/g)) {
      problems.push(`undefined macro ${m[1]} in ${short(item.math)}`);
    }
    if (item.typesetRoot) texOf.set(item.typesetRoot, item.math);
  }
  for (const node of qa.querySelectorAll("mjx-merror")) {
    const message = node.getAttribute("data-mjx-error") || node.getAttribute("title") || node.textContent;
    const text = `MathJax error "${message}"`;
    if (!problems.some((p) => p.startsWith(text))) problems.push(text);
  }
}

function rawTex(qa, problems) {
  const walker = document.createTreeWalker(qa, NodeFilter.SHOW_TEXT, {
    acceptNode(node) {
      for (let el = node.parentElement; el && el !== qa; el = el.parentElement) {
        if (SKIP.has(el.tagName.toUpperCase())) return NodeFilter.FILTER_REJECT;
      }
      return NodeFilter.FILTER_ACCEPT;
    },
  });
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.data;
    const found = RAW_TEX.filter((sign) => text.includes(sign));
    if (found.length) problems.push(`raw TeX ${found.join(" ")} left on the page: "${short(text)}"`);
  }
}

function insideScroller(el, qa) {
  for (let up = el.parentElement; up && up !== qa; up = up.parentElement) {
    if (SCROLLS.has(getComputedStyle(up).overflowX)) return true;
  }
  return false;
}

// MathJax's assistive MathML is a visually hidden copy of each formula; being absolutely
// positioned, it can stretch the page by a few pixels that nobody sees: leave it out.
const HIDE_ASSISTIVE = document.createElement("style");
HIDE_ASSISTIVE.textContent = "mjx-assistive-mml { display: none !important; }";

function overflow(qa, problems, texOf) {
  const page = document.documentElement.scrollWidth;
  if (page > screenWidth) problems.push(`page is ${page} px wide, wider than the ${screenWidth} px screen`);
  const reported = [];
  for (const el of qa.querySelectorAll("*")) {
    if (reported.some((r) => r.contains(el))) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || (box.right <= screenWidth + 0.5 && box.left >= -0.5)) continue;
    if (insideScroller(el, qa)) continue;
    reported.push(el);
    const what = texOf.has(el) ? `formula ${short(texOf.get(el))}` : `<${el.tagName.toLowerCase()}> "${short(el.textContent || el.getAttribute("src") || "")}"`;
    problems.push(`${what} spans ${Math.round(box.left)}..${Math.round(box.right)} px, past the ${screenWidth} px screen`);
  }
}

// With `sideways`, a box that scrolls sideways (a code block, a table, a display formula wider
// than the screen) is a problem too: on a phone it hides part of the card behind a swipe.
function scrollsSideways(qa, problems, texOf) {
  for (const el of qa.querySelectorAll("*")) {
    if (!SCROLLS.has(getComputedStyle(el).overflowX) || el.scrollWidth <= el.clientWidth + 1) continue;
    const what = texOf.has(el) ? `formula ${short(texOf.get(el))}` : `<${el.tagName.toLowerCase()}> "${short(el.textContent || "")}"`;
    problems.push(`${what} scrolls sideways: ${el.scrollWidth} px of content in a ${el.clientWidth} px box`);
  }
}

async function showSide(qa, side) {
  const problems = [];
  document.body.className = side.bodyClass;
  MathJax.typesetClear();
  qa.innerHTML = side.html;
  try {
    await MathJax.typesetPromise([qa]);
  } catch (error) {
    problems.push(`MathJax failed: ${error}`);
  }
  const images = [...qa.querySelectorAll("img")];
  await Promise.all(images.map((img) => img.complete ? null : new Promise((ok) => { img.onload = img.onerror = ok; })));
  for (const img of images) {
    if (img.naturalWidth === 0) problems.push(`broken image ${img.getAttribute("src")}`);
  }
  const texOf = new Map();
  mathProblems(qa, problems, texOf);
  rawTex(qa, problems);
  document.head.append(HIDE_ASSISTIVE);
  overflow(qa, problems, texOf);
  if (sideways) scrollsSideways(qa, problems, texOf);
  HIDE_ASSISTIVE.remove();
  return problems;
}

(async () => {
  try {
    await MathJax.startup.promise;
    const qa = document.getElementById("qa");
    const results = [];
    for (const side of sides) results.push(await showSide(qa, side));
    done(results);
  } catch (error) {
    done(sides.map(() => [`probe failed: ${error && error.stack || error}`]));
  }
})();
