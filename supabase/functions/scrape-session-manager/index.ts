/** The deployed entry of `scrape-session-manager` (see handler.ts). */
import { serve } from '../_shared/http.ts';
import { handleScrapeSession } from './handler.ts';

serve(handleScrapeSession);
