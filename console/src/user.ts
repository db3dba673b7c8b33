// Who claims tasks. Until the REST API authenticates console users, the name is chosen in the
// header and kept in this browser (localStorage).

const storageKey = 'tern.console.user';

export function currentUser(): string {
  try {
    return localStorage.getItem(storageKey) || 'demo';
  } catch {
    return 'demo';
  }
}

export function setCurrentUser(name: string): void {
  try {
    localStorage.setItem(storageKey, name);
  } catch {
    // private mode: the name lasts for this page only
  }
}
