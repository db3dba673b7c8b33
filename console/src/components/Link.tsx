import type { ComponentChildren } from 'preact';
import { navigate } from '../router';

// An anchor that navigates inside the console (a plain click), or opens a tab (modifier keys).
export function Link(props: { href: string; class?: string; children: ComponentChildren }) {
  const onClick = (event: MouseEvent) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(props.href);
  };
  return (
    <a href={props.href} class={props.class} onClick={onClick}>
      {props.children}
    </a>
  );
}
