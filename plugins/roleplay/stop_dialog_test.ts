import assert from "node:assert/strict";
import { stopDialog } from "./stop_dialog.ts";

Deno.test("stopDialog() stops on FINISH as the first or last token", () => {
  assert.equal(stopDialog("FINISH"), true);
  assert.equal(stopDialog("FINISH, I got what I needed"), true);
  assert.equal(stopDialog("That answers it. FINISH"), true);
  assert.equal(stopDialog("  \n FINISH \n"), true);
});

Deno.test("stopDialog() strips ASCII punctuation around and inside the token", () => {
  assert.equal(stopDialog('"FINISH"'), true);
  assert.equal(stopDialog("**FINISH**"), true);
  assert.equal(stopDialog("Great, thanks. Finish."), true);
  assert.equal(stopDialog("FIN-ISH"), true); // punctuation removed anywhere in the token
});

Deno.test("stopDialog() ignores FINISH in the middle, other cases and non-ASCII quotes", () => {
  assert.equal(stopDialog("I will FINISH this later, ok?"), false);
  assert.equal(stopDialog("finish"), false);
  assert.equal(stopDialog("FINISHED"), false);
  assert.equal(stopDialog("\u201cFINISH\u201d"), false);
  assert.equal(stopDialog(""), false);
});

Deno.test("stopDialog() accepts another stop token and its capitalised form", () => {
  assert.equal(stopDialog("done!", "DONE"), false);
  assert.equal(stopDialog("Done!", "DONE"), true);
  assert.equal(stopDialog("DONE", "DONE"), true);
});
