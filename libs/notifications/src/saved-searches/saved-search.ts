/** A user's standing query for job postings. */
export interface SavedSearch {
  id: string;
  userId: string;
  /** Each keyword is one word or a phrase; every keyword must occur in the posting. */
  keywords: string[];
  location?: string;
  remote?: boolean;
  minSalary?: number;
  createdAt: string;
}

/** A job posting, as internal services enqueue it. */
export interface JobPosting {
  id: string;
  title: string;
  company: string;
  location?: string;
  description?: string;
  tags?: string[];
  salary?: number;
  remote?: boolean;
}
