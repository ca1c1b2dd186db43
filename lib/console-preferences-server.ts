import { cookies } from "next/headers";
import { displayZone, preferencesFromCookies, type ConsolePreferences } from "@/lib/console-preferences";

/** The preferences of the browser asking for this page, from its cookies. */
export async function requestPreferences(): Promise<ConsolePreferences> {
  const jar = await cookies();
  return preferencesFromCookies((name) => jar.get(name)?.value);
}

/** The zone the server renders times in for this request: what the browser will show. */
export async function requestDisplayZone(): Promise<string> {
  const preferences = await requestPreferences();
  return displayZone(preferences.timeMode, preferences.browserZone);
}
