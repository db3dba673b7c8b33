import { useState } from 'preact/hooks';
import { Link } from './components/Link';
import { Notice } from './components/Messages';
import { match, usePath } from './router';
import { currentUser, setCurrentUser } from './user';
import { Cluster } from './views/Cluster';
import { Instance } from './views/Instance';
import { ProcessDetail, Processes } from './views/Processes';
import { Tasklist } from './views/Tasklist';

// The console's frame: navigation, the user name, and the view the path names.
export function App() {
  let path = usePath();
  const [user, setUser] = useState(currentUser());
  if (path === '/' || path === '') {
    // The Tasklist is the start page.
    history.replaceState(null, '', '/tasklist');
    path = '/tasklist';
  }
  return (
    <div class="app">
      <header>
        <span class="brand">Tern Console</span>
        <nav>
          <NavLink href="/tasklist" path={path}>
            Tasklist
          </NavLink>
          <NavLink href="/processes" path={path}>
            Processes
          </NavLink>
          <NavLink href="/cluster" path={path}>
            Cluster
          </NavLink>
        </nav>
        <label class="user">
          User{' '}
          <input
            value={user}
            size={10}
            data-testid="user"
            onChange={(e) => {
              const name = (e.target as HTMLInputElement).value.trim() || 'demo';
              setCurrentUser(name);
              setUser(name);
            }}
          />
        </label>
      </header>
      <main key={user}>{route(path)}</main>
    </div>
  );
}

function route(path: string) {
  let params: Record<string, string> | null;
  if (match('/tasklist', path)) return <Tasklist />;
  if ((params = match('/tasklist/:key', path))) return <Tasklist taskKey={params.key} />;
  if (match('/processes', path)) return <Processes />;
  if ((params = match('/processes/:key', path))) return <ProcessDetail processDefinitionKey={params.key} />;
  if ((params = match('/instances/:key', path))) return <Instance processInstanceKey={params.key} />;
  if (match('/cluster', path)) return <Cluster />;
  return <Notice>There is no page at {path}.</Notice>;
}

function NavLink(props: { href: string; path: string; children: string }) {
  const active = props.path === props.href || props.path.startsWith(props.href + '/');
  return (
    <Link href={props.href} class={active ? 'active' : ''}>
      {props.children}
    </Link>
  );
}
