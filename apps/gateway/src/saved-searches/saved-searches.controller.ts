import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { type SavedSearch, SavedSearchStore } from '@app/notifications';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { UserAuthGuard } from '../auth/user-auth.guard';
import { CreateSavedSearchRequest } from './saved-searches.dto';

/** A user's saved searches; each one is matched against every job posting. */
@Controller('api/saved-searches')
@UseGuards(UserAuthGuard)
export class SavedSearchesController {
  constructor(private readonly searches: SavedSearchStore) {}

  @Post()
  create(@CurrentUser() user: AuthenticatedUser, @Body() body: CreateSavedSearchRequest): Promise<SavedSearch> {
    return this.searches.create(user.id, body);
  }

  @Get()
  async list(@CurrentUser() user: AuthenticatedUser): Promise<{ items: SavedSearch[] }> {
    return { items: await this.searches.list(user.id) };
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentUser() user: AuthenticatedUser, @Param('id') id: string): Promise<void> {
    await this.searches.delete(user.id, id);
  }
}
