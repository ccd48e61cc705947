/** The deployed entry of `xml-import-orchestrator` (see handler.ts). */
import { serve } from '../_shared/http.ts';
import { handleXmlImport } from './handler.ts';

serve(handleXmlImport);
