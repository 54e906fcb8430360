// "PyTorch" and "Rust" downloads: the current run as a program that prints
// its CSV (POST /api/emit, as `downhill run … --emit pytorch|rust`).
import { post } from "./api.js";

const LANGUAGES = [
  ["export-pytorch", "pytorch", "downhill_run.py"],
  ["export-rust", "rust", "main.rs"],
];

// `request()`: the body of the current run; `download(name, href)` saves a
// file; `fail(message)` shows why the server refused.
export function initEmit(request, download, fail) {
  for (const [id, language, name] of LANGUAGES) {
    document.getElementById(id).onclick = async () => {
      try {
        const text = await post("/api/emit", { ...request(), language }, { text: true });
        download(name, URL.createObjectURL(new Blob([text], { type: "text/plain" })));
      } catch (error) {
        fail(error.message);
      }
    };
  }
}
