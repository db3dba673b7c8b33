import type { ComponentChildren } from 'preact';
import { ApiError, errorMessage } from '../api/client';

// An API error as a readable message: the problem's title and detail, and for endpoints this
// gateway does not serve yet (501) a note instead of an alarm.
export function ErrorMessage(props: { error: unknown; what?: string }) {
  if (props.error === undefined || props.error === null) return null;
  const notBuilt = props.error instanceof ApiError && props.error.notImplemented;
  return (
    <div class={notBuilt ? 'notice' : 'error'} role="alert" data-testid={notBuilt ? 'not-built' : 'error'}>
      {props.what ? <strong>{props.what}: </strong> : null}
      {notBuilt ? 'not served by this gateway yet. ' : null}
      {errorMessage(props.error)}
    </div>
  );
}

export function Notice(props: { children: ComponentChildren }) {
  return <div class="notice">{props.children}</div>;
}

export function Loading(props: { when: boolean }) {
  return props.when ? <div class="loading">Loading…</div> : null;
}

export function StateBadge(props: { state: string }) {
  return <span class={`badge state-${props.state.toLowerCase()}`}>{props.state}</span>;
}

export function formatDate(iso?: string): string {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}
