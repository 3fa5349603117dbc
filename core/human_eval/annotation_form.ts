/**
 * The self-contained HTML form annotators fill in a browser: every item with one group of radio
 * buttons per question, an annotator name, a progress count, answers kept in the browser's local
 * storage, and a "Save labels" button that downloads a labels JSON file. No external resources.
 *
 * @module
 */

import type { HumanEvalQuestion } from "./items.ts";

/** What the form shows of one (anonymized) item. */
export interface FormItem {
  anon: string;
  text?: string;
  turns?: { speaker: string; content: string }[];
}

/** What {@link annotationFormHtml} needs. */
export interface FormInput {
  title: string;
  instructions: string;
  questions: readonly HumanEvalQuestion[];
  items: readonly FormItem[];
  /** Hash of the exported set; written into the labels file so imports can check it. */
  setHash: string;
}

function esc(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}

const CSS =
  `body{font-family:system-ui,sans-serif;max-width:900px;margin:24px auto;padding:0 16px;color:#222}
.item{border:1px solid #ddd;border-radius:6px;padding:12px;margin:16px 0}.turn{margin:6px 0;white-space:pre-wrap}
.speaker{font-weight:600}.text{white-space:pre-wrap;margin-bottom:8px}fieldset{border:0;padding:4px 0;margin:0}
legend{font-weight:600;padding:0}label{margin-right:14px;cursor:pointer}
#bar{position:sticky;top:0;background:#fff;padding:8px 0;border-bottom:1px solid #eee}`;

// The page script: collects checked radios into {anon: {question: choice}}, autosaves them, and
// saves a labels file through a Blob download (no network, works from file://).
const SCRIPT = `
const meta = JSON.parse(document.getElementById("meta").textContent);
const key = "dramatis-human-eval:" + meta.set;
function collect() {
  const labels = {};
  for (const input of document.querySelectorAll("input[type=radio]:checked")) {
    (labels[input.dataset.item] ??= {})[input.dataset.question] = input.value;
  }
  return labels;
}
function update() {
  const labels = collect();
  let done = 0;
  for (const a of Object.values(labels)) done += Object.keys(a).length;
  document.getElementById("progress").textContent = done + " of " + meta.total + " answers";
  try { localStorage.setItem(key, JSON.stringify({ annotator: document.getElementById("annotator").value, labels })); } catch {}
}
try {
  const saved = JSON.parse(localStorage.getItem(key) ?? "null");
  if (saved) {
    document.getElementById("annotator").value = saved.annotator ?? "";
    for (const [item, answers] of Object.entries(saved.labels ?? {})) {
      for (const [q, v] of Object.entries(answers)) {
        for (const input of document.querySelectorAll("input[type=radio]")) {
          if (input.dataset.item === item && input.dataset.question === q && input.value === v) input.checked = true;
        }
      }
    }
  }
} catch {}
document.addEventListener("change", update);
document.getElementById("annotator").addEventListener("input", update);
document.getElementById("save").addEventListener("click", () => {
  const annotator = document.getElementById("annotator").value.trim() || "anonymous";
  const body = { format: "dramatis-human-eval-labels", version: 1, set: meta.set, annotator,
    saved_at: new Date().toISOString(), labels: collect() };
  const url = URL.createObjectURL(new Blob([JSON.stringify(body, null, 2)], { type: "application/json" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = "labels_" + annotator.replace(/[^A-Za-z0-9_-]+/g, "_") + ".json";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  document.getElementById("status").textContent = "saved " + a.download;
});
update();
`;

/**
 * The form's HTML. Radio inputs carry `data-item` (the anonymous item id) and `data-question`;
 * their ids are `<item>__<question>__<choice index>` so labels can be clicked by id.
 *
 * @example
 * ```ts
 * import { annotationFormHtml } from "./annotation_form.ts";
 * const html = annotationFormHtml({
 *   title: "Demo", instructions: "", setHash: "abc",
 *   questions: [{ id: "ok", prompt: "Fine?", choices: ["yes", "no"] }],
 *   items: [{ anon: "item-001", text: "Hello" }],
 * });
 * console.log(html.includes('id="item-001__ok__0"')); // true
 * ```
 */
export function annotationFormHtml(input: FormInput): string {
  const total = input.items.length * input.questions.length;
  const meta = JSON.stringify({ set: input.setHash, total }).replaceAll("<", "\\u003c");
  const out: string[] = [
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">`,
    `<meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>${esc(input.title)}</title><style>${CSS}</style></head><body>`,
    `<h1>${esc(input.title)}</h1>`,
    input.instructions ? `<p class="instructions">${esc(input.instructions)}</p>` : "",
    `<div id="bar"><label>Your name or code <input id="annotator" autocomplete="off"></label> `,
    `<span id="progress"></span> <button id="save" type="button">Save labels</button> `,
    `<span id="status"></span></div>`,
  ];
  for (const item of input.items) {
    out.push(`<section class="item" data-item="${esc(item.anon)}"><h2>${esc(item.anon)}</h2>`);
    if (item.text !== undefined) out.push(`<div class="text">${esc(item.text)}</div>`);
    for (const t of item.turns ?? []) {
      out.push(
        `<div class="turn"><span class="speaker">${esc(t.speaker)}:</span> ${esc(t.content)}</div>`,
      );
    }
    for (const q of input.questions) {
      out.push(`<fieldset><legend>${esc(q.prompt)}</legend>`);
      for (const [k, choice] of q.choices.entries()) {
        const id = `${item.anon}__${q.id}__${k}`;
        out.push(
          `<input type="radio" id="${esc(id)}" name="${esc(`${item.anon}__${q.id}`)}" value="${
            esc(choice)
          }" data-item="${esc(item.anon)}" data-question="${esc(q.id)}">` +
            `<label for="${esc(id)}">${esc(choice)}</label>`,
        );
      }
      out.push(`</fieldset>`);
    }
    out.push(`</section>`);
  }
  out.push(
    `<script type="application/json" id="meta">${meta}</script>`,
    `<script>${SCRIPT}</script></body></html>`,
  );
  return out.join("\n");
}
