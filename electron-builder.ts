import type { Configuration } from 'electron-builder';

/**
 * Installable desktop build (`npm run dist`), adapted from node-llama-cpp's
 * electron-typescript-react template: the same per-platform file filters and
 * asarUnpack for its native bindings, this project's layout (electron-vite builds
 * into out/), and Linux AppImage + deb. electron-builder reads this file by its name.
 *
 * ${os} is electron-builder's platform key (linux, mac, win) and ${arch} the target
 * arch (x64, arm64, armv7l): together they name node-llama-cpp's prebuilt binding
 * folders (@node-llama-cpp/linux-x64, linux-x64-cuda, mac-arm64-metal, ...), so
 * a package carries its own platform's bindings and none of the others'.
 * electron-builder.test.ts evaluates these filters against those folder names.
 */
export const APP_ID = 'dev.stageb.workbench';

const config: Configuration = {
  appId: APP_ID,
  productName: 'Stage-B Workbench',
  executableName: 'stageb-workbench',
  asar: true,
  // node-llama-cpp's bindings are prebuilt N-API addons (ABI-stable across Node and
  // Electron) and no other dependency is native: nothing to rebuild for Electron.
  npmRebuild: false,
  directories: { output: 'dist', buildResources: 'resources' },
  icon: 'resources/icon.png',
  files: [
    // The bundled main process, preload and renderer; runtime dependencies
    // (package.json "dependencies") are added from node_modules by electron-builder.
    'out/**/*',
    '!out/.renderer-build.lock',
    'package.json',
    // node-llama-cpp: only the target platform's binaries, prebuilt or built locally.
    '!node_modules/node-llama-cpp/bins/**/*',
    'node_modules/node-llama-cpp/bins/${os}-${arch}*/**/*',
    '!node_modules/node-llama-cpp/llama/localBuilds/**/*',
    'node_modules/node-llama-cpp/llama/localBuilds/${os}-${arch}*/**/*',
    '!node_modules/@node-llama-cpp/*/bins/**/*',
    'node_modules/@node-llama-cpp/${os}-${arch}*/bins/**/*',
  ],
  // Native bindings are loaded from disk, not from inside the asar archive.
  asarUnpack: ['node_modules/node-llama-cpp/bins', 'node_modules/node-llama-cpp/llama/localBuilds', 'node_modules/@node-llama-cpp/*'],
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Development',
    icon: 'resources/icons',
    maintainer: 'Stage-B Workbench',
    synopsis: 'Training-free LLM verdict loop with a review workbench',
    artifactName: '${name}.Linux.${version}.${arch}.${ext}',
  },
  deb: { depends: ['libgtk-3-0', 'libnotify4', 'libnss3', 'libxss1', 'libxtst6', 'xdg-utils', 'libatspi2.0-0', 'libuuid1', 'libsecret-1-0'] },
  mac: {
    target: ['dmg', 'zip'],
    category: 'public.app-category.developer-tools',
    artifactName: '${name}.macOS.${version}.${arch}.${ext}',
  },
  win: {
    target: ['nsis'],
    artifactName: '${name}.Windows.${version}.${arch}.${ext}',
  },
  nsis: { oneClick: true, perMachine: false, allowToChangeInstallationDirectory: false },
};

export default config;
