import { useEffect, useRef, useState } from 'preact/hooks';
import type { ElementStatistics } from '../api/types';
import { errorMessage } from '../api/client';

// A BPMN diagram (bpmn-js NavigatedViewer: pan and zoom), with optional per-element badges
// (active, incidents, completed, canceled) and highlighted elements. bpmn-js is loaded on first
// use, so pages without a diagram do not download it.
export function Diagram(props: {
  xml: string;
  statistics?: ElementStatistics[];
  highlight?: string[];
  onElementClick?: (elementId: string) => void;
}) {
  const container = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string>();
  useEffect(() => {
    let viewer: { destroy(): void } | undefined;
    let cancelled = false;
    (async () => {
      const [{ default: NavigatedViewer }] = await Promise.all([
        import('bpmn-js/lib/NavigatedViewer'),
        import('bpmn-js/dist/assets/diagram-js.css'),
        import('bpmn-js/dist/assets/bpmn-js.css'),
      ]);
      if (cancelled || !container.current) return;
      const instance = new NavigatedViewer({ container: container.current });
      viewer = instance;
      try {
        await instance.importXML(props.xml);
      } catch (failure) {
        if (!cancelled) setError(`The diagram cannot be shown: ${errorMessage(failure)}`);
        return;
      }
      if (cancelled) return;
      const canvas = instance.get<any>('canvas');
      canvas.zoom('fit-viewport');
      const overlays = instance.get<any>('overlays');
      const registry = instance.get<any>('elementRegistry');
      for (const stat of props.statistics ?? []) {
        if (!registry.get(stat.elementId)) continue;
        const badges: [string, number][] = [
          ['active', stat.active],
          ['incidents', stat.incidents],
          ['completed', stat.completed],
          ['canceled', stat.canceled],
        ];
        const html = badges
          .filter(([, count]) => count > 0)
          .map(([kind, count]) => `<span class="diagram-badge ${kind}" title="${kind}">${count}</span>`)
          .join('');
        if (html) overlays.add(stat.elementId, { position: { bottom: 10, left: -8 }, html: `<div class="diagram-badges">${html}</div>` });
      }
      for (const id of props.highlight ?? []) {
        if (registry.get(id)) canvas.addMarker(id, 'highlight');
      }
      if (props.onElementClick) {
        const onClick = props.onElementClick;
        instance.get<any>('eventBus').on('element.click', (event: { element: { id: string } }) =>
          onClick(event.element.id),
        );
      }
    })().catch((failure) => !cancelled && setError(errorMessage(failure)));
    return () => {
      cancelled = true;
      viewer?.destroy();
    };
  }, [props.xml, props.statistics, props.highlight]);
  return (
    <div class="diagram-frame">
      {error ? <div class="error">{error}</div> : null}
      <div class="diagram" ref={container} data-testid="diagram" />
    </div>
  );
}
