// monaco-yaml's worker, bundled by Vite through `?worker` (importing the package file with
// `?worker` directly fails under Vite; see monaco-yaml's README, "Why doesn't it work with Vite?").
import 'monaco-yaml/yaml.worker.js';
