import { selectApiClient, type ApiClient } from '../../shared/api';

let client: ApiClient | null = null;

/** The one ApiClient of this window: the Electron bridge, or HTTP with the token from location.hash. */
export function getApiClient(): ApiClient {
  client ??= selectApiClient();
  return client;
}

/** Tests and stories inject their own client. */
export function setApiClient(next: ApiClient): void {
  client = next;
}
