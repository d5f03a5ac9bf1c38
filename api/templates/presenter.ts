import { templateRefusal, type TemplateRecord } from '../../machines/templates';
import type { TemplateView } from './schemas';

export function presentTemplate(template: TemplateRecord): TemplateView {
  const { wabaId: _wabaId, ...t } = template;
  return { ...t, sendable: templateRefusal(template) === undefined };
}
