import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import { takeApiToken } from './app/apiToken';
import { hasPreloadBridge } from './app/apiClient';
import { createAppStores } from './app/stores';
import { navStore } from './app/navStore';
import { SCREENS } from './app/screens';
import { connectUrl } from './app/urlSync';
import './styles.css';

// The token leaves the address bar before the route is written back to it (apiToken.ts).
if (!hasPreloadBridge()) takeApiToken();
connectUrl(navStore, SCREENS, window);

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App stores={createAppStores()} />
  </StrictMode>,
);
