import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { SavedSearchStore } from '@app/job-matching';
import type { SavedSearch } from '@app/notifications';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { UserAuthGuard } from '../auth/user-auth.guard';
import { SavedSearchAnswer, SavedSearchListAnswer } from '../docs/answer.models';
import { ApiErrorAnswers, ApiUserAuth } from '../docs/api-docs.decorators';
import { CreateSavedSearchRequest } from './saved-searches.dto';

const SAVED_SEARCH_EXAMPLE = {
  id: '1c9e4b7a-0f2d-4d5e-8a61-3b7c2e9f0a14',
  userId: 'u42',
  keywords: ['node.js', 'machine learning'],
  location: 'Berlin',
  remote: true,
  minSalary: 60000,
  createdAt: '2026-11-21T12:00:00.000Z',
};

/** A user's saved searches; each one is matched against every job posting. */
@ApiTags('saved-searches')
@ApiUserAuth()
@Controller('api/saved-searches')
@UseGuards(UserAuthGuard)
export class SavedSearchesController {
  constructor(private readonly searches: SavedSearchStore) {}

  @Post()
  @ApiOperation({ summary: 'Save a search', description: 'Matched against every job posting from now on; a user keeps at most 100 (a 101st is a 400 naming `body`).' })
  @ApiBody({
    type: CreateSavedSearchRequest,
    examples: {
      full: { summary: 'Every field', value: { keywords: ['node.js', 'machine learning'], location: 'Berlin', remote: true, minSalary: 60000 } },
      keywords: { summary: 'Keywords only', value: { keywords: ['c#'] } },
    },
  })
  @ApiCreatedResponse({ type: SavedSearchAnswer, description: 'The saved search, with its id.', example: SAVED_SEARCH_EXAMPLE })
  @ApiErrorAnswers({ statusCode: 400, error: 'Bad Request', message: 'keywords must be an array of 1 to 10 strings', field: 'keywords' }, 413, 415, 503)
  create(@CurrentUser() user: AuthenticatedUser, @Body() body: CreateSavedSearchRequest): Promise<SavedSearch> {
    return this.searches.create(user.id, body);
  }

  @Get()
  @ApiOperation({ summary: "The user's saved searches" })
  @ApiOkResponse({ type: SavedSearchListAnswer, description: 'Oldest first.', example: { items: [SAVED_SEARCH_EXAMPLE] } })
  @ApiErrorAnswers(503)
  async list(@CurrentUser() user: AuthenticatedUser): Promise<{ items: SavedSearch[] }> {
    return { items: await this.searches.list(user.id) };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a saved search' })
  @ApiParam({ name: 'id', type: String, description: 'The saved search id.', example: '1c9e4b7a-0f2d-4d5e-8a61-3b7c2e9f0a14' })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiErrorAnswers(404, 503)
  async remove(@CurrentUser() user: AuthenticatedUser, @Param('id') id: string): Promise<void> {
    await this.searches.delete(user.id, id);
  }
}
