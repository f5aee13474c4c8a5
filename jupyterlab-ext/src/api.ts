// The one way the frontend reaches the runtime: the server extension's route, through Jupyter's own
// ServerConnection (its token and XSRF cookie), with the runtime's typed client on top.
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { ApiError, SkiffApiClient, type Health } from '@skiff/runtime/front';

/** Where the server extension mounts the runtime's API: `<base_url>/skiff/api/...`. */
export const API_ROUTE = 'skiff';

export function createClient(settings: ServerConnection.ISettings = ServerConnection.makeSettings()): SkiffApiClient {
  return new SkiffApiClient({
    baseUrl: URLExt.join(settings.baseUrl, API_ROUTE),
    fetch: (input, init) => ServerConnection.makeRequest(String(input), init ?? {}, settings),
  });
}

/** Health and version, with the two ways this fails said plainly. */
export async function connect(client: SkiffApiClient): Promise<Health> {
  try {
    return await client.checkVersion();
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      throw new ApiError(
        404,
        'SERVER_EXTENSION_MISSING',
        'the Skiff server extension is not running in this Jupyter server',
        "install the same package in the server's environment (pip install skiff-jupyterlab) and restart Jupyter; `jupyter server extension list` should show skiff_jupyterlab enabled",
      );
    }
    throw err;
  }
}

/** "message — hint" for any error the client throws. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.hint ? `${err.message} — ${err.hint}` : err.message;
  return err instanceof Error ? err.message : String(err);
}
